package dev.jkvm.vmm.firmware;

/**
 * The 8-bit checksum of the MP table and ACPI: all bytes of a structure, its checksum field
 * included, add up to zero modulo 256.
 *
 * <pre>{@code
 * Checksum.sum(table, 0, table.length) == 0
 * }</pre>
 */
public final class Checksum {

    private Checksum() {
    }

    /** The sum of {@code bytes[from..to)} modulo 256. */
    public static int sum(byte[] bytes, int from, int to) {
        int s = 0;
        for (int i = from; i < to; i++) {
            s += bytes[i];
        }
        return s & 0xFF;
    }

    /** The byte that, added to {@code bytes[from..to)}, makes the sum zero. */
    public static int complement(byte[] bytes, int from, int to) {
        return -sum(bytes, from, to) & 0xFF;
    }
}
