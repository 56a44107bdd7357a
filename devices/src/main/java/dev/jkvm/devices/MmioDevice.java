package dev.jkvm.devices;

/**
 * A device in the guest-physical address space, reached through MMIO exits.
 *
 * <p>The {@link MmioBus} passes the offset of the access from the region's base. Accesses are
 * 1, 2, 4 or 8 bytes wide and lie inside the region (the bus splits any other). Implementations
 * must not allocate on this path.
 */
public interface MmioDevice {

    /** Reads {@code size} bytes at {@code offset}; the value is in the low {@code 8 * size} bits. */
    long read(long offset, int size);

    /** Writes the low {@code 8 * size} bits of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);

    /** A short name for listings and logs. */
    default String name() {
        return getClass().getSimpleName();
    }
}
