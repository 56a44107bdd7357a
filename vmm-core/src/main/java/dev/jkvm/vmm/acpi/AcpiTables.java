package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.firmware.ByteWriter;
import dev.jkvm.vmm.firmware.PlatformDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds jkvm's ACPI tables from a {@link PlatformDescription}: FACS, DSDT, FADT, MADT, RSDT,
 * XSDT in one blob (each 8-byte aligned, the FACS first at the 64-byte aligned base), and the RSDP
 * pointing at the RSDT and the XSDT.
 *
 * <pre>{@code
 * int size = AcpiTables.length(platform);           // same for every base
 * AcpiImage acpi = AcpiTables.build(platform, base);
 * }</pre>
 */
public final class AcpiTables {

    /** OEM ID of every table and of the RSDP. */
    public static final String OEM_ID = "JKVM  ";
    /** OEM table IDs are this and the table's signature ("JKVMFACP"). */
    public static final String OEM_TABLE_ID_PREFIX = "JKVM";
    public static final int OEM_REVISION = 1;
    public static final String CREATOR_ID = "JKVM";
    public static final int CREATOR_REVISION = 1;

    /** The alignment the tables' base needs (the FACS's). */
    public static final int BASE_ALIGNMENT = Facs.ALIGNMENT;
    /** The RSDP's length and the alignment of its address. */
    public static final int RSDP_LENGTH = Rsdp.LENGTH;
    public static final int RSDP_ALIGNMENT = 16;

    private static final int TABLE_ALIGNMENT = 8;

    private AcpiTables() {
    }

    /**
     * Lays the tables out from {@code base} (64-byte aligned; the whole blob below 4 GiB, since
     * the RSDT and the 32-bit FADT fields point into it).
     */
    public static AcpiImage build(PlatformDescription p, long base) {
        if (base <= 0 || base % BASE_ALIGNMENT != 0) {
            throw new IllegalArgumentException("ACPI tables base 0x" + Long.toHexString(base)
                    + " must be a non-zero multiple of " + BASE_ALIGNMENT);
        }
        ByteWriter blob = new ByteWriter();
        List<AcpiTableEntry> entries = new ArrayList<>();

        long facs = place(blob, base, entries, "FACS", Facs.build(p));
        long dsdt = place(blob, base, entries, "DSDT", Dsdt.build(p));
        long fadt = place(blob, base, entries, "FACP", Fadt.build(p, facs, dsdt));
        long madt = place(blob, base, entries, "APIC", Madt.build(p));
        List<Long> described = List.of(fadt, madt);
        long rsdt = place(blob, base, entries, "RSDT", RootTables.rsdt(described));
        long xsdt = place(blob, base, entries, "XSDT", RootTables.xsdt(described));
        if (base + blob.position() > 0x1_0000_0000L) {
            throw new IllegalArgumentException("ACPI tables at 0x" + Long.toHexString(base) + " reach above 4 GiB");
        }
        return new AcpiImage(Rsdp.build(rsdt, xsdt), base, blob.toByteArray(), entries);
    }

    /** How long the blob {@link #build} makes for {@code p} is (it does not depend on the base). */
    public static int length(PlatformDescription p) {
        return build(p, BASE_ALIGNMENT).tables().length;
    }

    private static long place(ByteWriter blob, long base, List<AcpiTableEntry> entries, String signature, byte[] table) {
        blob.align(TABLE_ALIGNMENT);
        long address = base + blob.position();
        blob.bytes(table);
        entries.add(new AcpiTableEntry(signature, address, table.length));
        return address;
    }
}
