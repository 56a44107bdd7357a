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
 * AcpiTables.Prepared once = AcpiTables.prepare(platform); // the AML built once for both
 * AcpiImage same = once.at(base - once.length());
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
        return prepare(p).at(base);
    }

    /** How many bytes the tables of {@code p} take from their base (the same for every base). */
    public static int length(PlatformDescription p) {
        return prepare(p).length();
    }

    /**
     * The tables of {@code p} whose bytes do not depend on where they go (the FACS, the DSDT's AML,
     * the MADT), built once: the length and then the layout at a base come from them, where the
     * firmware tables' layout built everything twice.
     */
    public static Prepared prepare(PlatformDescription p) {
        return new Prepared(p, Facs.build(p), Dsdt.build(p), Madt.build(p));
    }

    /** See {@link #prepare}; the FADT, RSDT, XSDT and RSDP, which hold addresses, are made by {@link #at}. */
    public static final class Prepared {

        private final PlatformDescription p;
        private final byte[] facs;
        private final byte[] dsdt;
        private final byte[] madt;

        private Prepared(PlatformDescription p, byte[] facs, byte[] dsdt, byte[] madt) {
            this.p = p;
            this.facs = facs;
            this.dsdt = dsdt;
            this.madt = madt;
        }

        /** The blob's length, as {@link #at} lays it out: each table 8-byte aligned in turn. */
        public int length() {
            int end = 0;
            for (int table : new int[] {facs.length, dsdt.length, Fadt.LENGTH, madt.length,
                    RootTables.rsdtLength(DESCRIBED), RootTables.xsdtLength(DESCRIBED)}) {
                end = ((end + TABLE_ALIGNMENT - 1) & -TABLE_ALIGNMENT) + table;
            }
            return end;
        }

        /** The tables laid out from {@code base}, as {@link AcpiTables#build}. */
        public AcpiImage at(long base) {
            if (base <= 0 || base % BASE_ALIGNMENT != 0) {
                throw new IllegalArgumentException("ACPI tables base 0x" + Long.toHexString(base)
                        + " must be a non-zero multiple of " + BASE_ALIGNMENT);
            }
            ByteWriter blob = new ByteWriter();
            List<AcpiTableEntry> entries = new ArrayList<>();

            long facsAt = place(blob, base, entries, "FACS", facs);
            long dsdtAt = place(blob, base, entries, "DSDT", dsdt);
            long fadt = place(blob, base, entries, "FACP", Fadt.build(p, facsAt, dsdtAt));
            long madtAt = place(blob, base, entries, "APIC", madt);
            List<Long> described = List.of(fadt, madtAt);
            long rsdt = place(blob, base, entries, "RSDT", RootTables.rsdt(described));
            long xsdt = place(blob, base, entries, "XSDT", RootTables.xsdt(described));
            if (base + blob.position() > 0x1_0000_0000L) {
                throw new IllegalArgumentException("ACPI tables at 0x" + Long.toHexString(base) + " reach above 4 GiB");
            }
            return new AcpiImage(Rsdp.build(rsdt, xsdt), base, blob.toByteArray(), entries);
        }
    }

    /** The tables the RSDT and the XSDT point at: the FADT and the MADT. */
    private static final int DESCRIBED = 2;

    private static long place(ByteWriter blob, long base, List<AcpiTableEntry> entries, String signature, byte[] table) {
        blob.align(TABLE_ALIGNMENT);
        long address = base + blob.position();
        blob.bytes(table);
        entries.add(new AcpiTableEntry(signature, address, table.length));
        return address;
    }
}
