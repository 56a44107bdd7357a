package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.acpi.AcpiImage;
import dev.jkvm.vmm.acpi.AcpiTableEntry;
import dev.jkvm.vmm.acpi.AcpiTables;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.memory.Region;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where the MP table and the ACPI tables go, and their bytes: all at the top of conventional
 * memory, where a BIOS keeps its Extended BIOS Data Area, as one reserved range ending at 640 KiB.
 *
 * <pre>
 *   0x9FC00  MP floating pointer (16 bytes)   the last KiB of base memory, which Linux scans for
 *   0x9FC10  ACPI RSDP (36 bytes)              "_MP_"; make it the EBDA (BDA word 0x40E = 0x9FC0) and
 *                                              ACPI's RSDP scan of the EBDA's first KiB finds "RSD PTR "
 *   base     ACPI FACS DSDT FACP APIC RSDT XSDT, then the MP configuration table;
 *            base = the page boundary at or below 0x9FC00 - their size (0x9F000 for a few vCPUs)
 * </pre>
 *
 * The lead marks {@code [reservedBase, reservedEnd)} reserved in the e820 map (usable RAM is then
 * {@code [0, reservedBase)} and from 1 MiB) and, for a Linux boot protocol guest, may put
 * {@link #rsdpAddress()} in {@code boot_params.acpi_rsdp_addr} so the guest need not scan.
 *
 * <pre>{@code
 * FirmwareTables t = FirmwareTables.layOut(platform, !noAcpi, true);
 * t.writeTo(memory);
 * e820.reserve(t.reservedBase(), t.reservedEnd() - t.reservedBase());
 * }</pre>
 *
 * @param placements what to copy where
 * @param reservedBase the first byte of the range the tables occupy (page aligned)
 * @param reservedEnd the first byte past it (0xA0000); equal to {@code reservedBase} when there are no tables
 * @param rsdpAddress the RSDP's address, when there is ACPI
 * @param acpiTables the RSDP and every ACPI table with its address, for {@code info acpi}
 */
public record FirmwareTables(List<Placement> placements, long reservedBase, long reservedEnd, OptionalLong rsdpAddress,
        List<AcpiTableEntry> acpiTables) {

    /** The end of conventional memory. */
    public static final long END = Layout.LOW_RAM_END;
    /** The real-mode segment of the EBDA, for BDA word 0x40E. */
    public static final int EBDA_SEGMENT = (int) (Layout.EBDA_START >>> 4);
    private static final long RSDP_ADDRESS = Layout.RSDP;

    private static final long PAGE = MemoryMap.PAGE;

    public FirmwareTables {
        placements = List.copyOf(placements);
        acpiTables = List.copyOf(acpiTables);
    }

    /**
     * The tables of {@code p}: ACPI unless {@code acpi} is false ({@code -no-acpi}), the MP table
     * unless {@code mp} is false; neither gives no placements and an empty reserved range.
     *
     * @throws IllegalArgumentException if they do not fit between {@link Layout#FIRMWARE_TABLES_LOWEST} and 640 KiB
     *     or that memory is not RAM in {@code p.memory()}
     */
    public static FirmwareTables layOut(PlatformDescription p, boolean acpi, boolean mp) {
        // Not cached here: machines of one shape share their tables through BoardShape, whose key
        // compares fields (hashing this record bootstraps ObjectMethods, ~20 ms interpreted).
        return build(p, acpi, mp);
    }

    private static FirmwareTables build(PlatformDescription p, boolean acpi, boolean mp) {
        if (!acpi && !mp) {
            return new FirmwareTables(List.of(), END, END, OptionalLong.empty(), List.of());
        }
        // Built once: their bytes do not depend on the base their lengths decide (the ACPI tables
        // that hold addresses are made at the base).
        AcpiTables.Prepared acpiTables = acpi ? AcpiTables.prepare(p) : null;
        byte[] mpTable = mp ? MpTable.configTable(p) : null;
        int acpiLength = acpi ? acpiTables.length() : 0;
        int acpiSpan = (acpiLength + 15) & -16;
        int mpLength = mp ? mpTable.length : 0;
        long base = (Layout.EBDA_START - acpiSpan - mpLength) & -PAGE;
        if (base < Layout.FIRMWARE_TABLES_LOWEST) {
            throw new IllegalArgumentException("firmware tables of " + (acpiSpan + mpLength)
                    + " bytes do not fit in conventional memory");
        }
        boolean inRam = p.memory().regionOf(base, END - base).map(r -> r.kind() == Region.Kind.RAM).orElse(false);
        if (!inRam) {
            throw new IllegalArgumentException("no RAM at 0x" + Long.toHexString(base) + "-0x"
                    + Long.toHexString(END - 1) + " for the firmware tables");
        }

        List<Placement> placements = new ArrayList<>();
        List<AcpiTableEntry> entries = new ArrayList<>();
        OptionalLong rsdp = OptionalLong.empty();
        if (acpi) {
            AcpiImage image = acpiTables.at(base);
            placements.add(new Placement("ACPI tables", base, image.tables()));
            placements.add(new Placement("ACPI RSDP", RSDP_ADDRESS, image.rsdp()));
            entries.add(new AcpiTableEntry("RSDP", RSDP_ADDRESS, image.rsdp().length));
            entries.addAll(image.entries());
            rsdp = OptionalLong.of(RSDP_ADDRESS);
        }
        if (mp) {
            MpTable.Image image = MpTable.image(mpTable, base + acpiSpan);
            placements.add(new Placement("MP configuration table", image.configTableAddress(), image.configTable()));
            placements.add(new Placement("MP floating pointer", Layout.MP_FLOATING_POINTER, image.floatingPointer()));
        }
        placements.sort((a, b) -> Long.compare(a.address(), b.address()));
        return new FirmwareTables(placements, base, END, rsdp, entries);
    }

    /** The RSDP's bytes, when there is ACPI (for a copy in the BIOS area, see {@link BiosAreaRsdp}). */
    public Optional<byte[]> rsdpBytes() {
        return placements.stream().filter(p -> p.address() == RSDP_ADDRESS && rsdpAddress.isPresent())
                .map(Placement::bytes).findFirst();
    }

    /** Copies every placement into guest memory. */
    public void writeTo(GuestMemory memory) {
        for (Placement pl : placements) {
            memory.write(pl.address(), pl.bytes());
        }
    }
}
