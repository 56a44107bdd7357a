package dev.jkvm.vmm.acpi;

/**
 * Where one ACPI table was put: a line of {@code info acpi}.
 *
 * <pre>{@code
 * new AcpiTableEntry("FACP", 0x9F100, 276);
 * }</pre>
 *
 * @param signature the table's signature ("RSDP" for the root pointer)
 * @param address its guest-physical address
 * @param length its length in bytes
 */
public record AcpiTableEntry(String signature, long address, int length) {

    @Override
    public String toString() {
        return String.format("%-4s 0x%08x %5d", signature, address, length);
    }
}
