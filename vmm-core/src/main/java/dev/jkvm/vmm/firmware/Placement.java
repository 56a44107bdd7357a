package dev.jkvm.vmm.firmware;

/**
 * Bytes to copy into guest-physical memory at a fixed address.
 *
 * <pre>{@code
 * for (Placement p : tables.placements()) memory.write(p.address(), p.bytes());
 * }</pre>
 *
 * @param what a short name for listings ({@code "MP floating pointer"}, {@code "ACPI tables"})
 * @param address the guest-physical address of the first byte
 */
public record Placement(String what, long address, byte[] bytes) {

    public Placement {
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    /** The first address past the bytes. */
    public long end() {
        return address + bytes.length;
    }
}
