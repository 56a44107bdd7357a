package dev.jkvm.vmm.acpi;

import java.util.Arrays;
import java.util.List;

/**
 * The built ACPI tables: the RSDP (36 bytes, to go at any 16-byte aligned address a guest finds,
 * its bytes do not depend on where) and every other table laid out in one blob for
 * {@code tablesAddress}.
 *
 * <pre>{@code
 * AcpiImage acpi = AcpiTables.build(platform, 0x9E000);
 * memory.write(0x9E000, acpi.tables());
 * memory.write(0x9FC10, acpi.rsdp());
 * }</pre>
 *
 * @param entries the tables in the blob, in address order (FACS, DSDT, FACP, APIC, RSDT, XSDT)
 */
public record AcpiImage(byte[] rsdp, long tablesAddress, byte[] tables, List<AcpiTableEntry> entries) {

    public AcpiImage {
        rsdp = rsdp.clone();
        tables = tables.clone();
        entries = List.copyOf(entries);
    }

    @Override
    public byte[] rsdp() {
        return rsdp.clone();
    }

    @Override
    public byte[] tables() {
        return tables.clone();
    }

    /** The bytes of the table {@code signature} (not the RSDP). */
    public byte[] table(String signature) {
        for (AcpiTableEntry e : entries) {
            if (e.signature().equals(signature)) {
                int from = (int) (e.address() - tablesAddress);
                return Arrays.copyOfRange(tables, from, from + e.length());
            }
        }
        throw new IllegalArgumentException("no ACPI table " + signature);
    }
}
