package dev.jkvm.vmm.acpi.aml;

/**
 * The AML PkgLength: the length of a package-like term counted from the PkgLength's own first
 * byte, in 1 to 4 bytes. One byte holds 0..63 in bits 0-5; longer forms put the byte count - 1 in
 * bits 6-7 of the lead byte, the low 4 bits of the value in its bits 0-3 and the rest, 8 bits at a
 * time, in the following bytes (so 2 bytes reach 4095, 3 bytes 1 MiB - 1, 4 bytes 256 MiB - 1).
 *
 * <pre>{@code
 * PkgLength.forContent(10);    // {0x0B}: 10 bytes follow, plus this one
 * PkgLength.forContent(63);    // {0x41, 0x04}: 65 = 63 + the 2 PkgLength bytes
 * }</pre>
 */
public final class PkgLength {

    /** The largest value each encoding length holds (index = byte count). */
    private static final int[] MAX_VALUE = {0, 0x3F, 0xFFF, 0xF_FFFF, 0xFFF_FFFF};

    private PkgLength() {
    }

    /** The PkgLength in front of {@code contentLength} bytes: it counts itself, so it may take one more. */
    public static byte[] forContent(int contentLength) {
        if (contentLength < 0) {
            throw new IllegalArgumentException("negative package length " + contentLength);
        }
        for (int n = 1; n <= 4; n++) {
            if ((long) contentLength + n <= MAX_VALUE[n]) {
                return encode(contentLength + n, n);
            }
        }
        throw new IllegalArgumentException("package of " + contentLength + " bytes exceeds AML's 256 MiB limit");
    }

    /** {@code value} (the whole PkgLength) in the shortest encoding that holds it. */
    public static byte[] encode(int value) {
        for (int n = 1; n <= 4; n++) {
            if (value >= 0 && value <= MAX_VALUE[n]) {
                return encode(value, n);
            }
        }
        throw new IllegalArgumentException("PkgLength " + value + " out of range");
    }

    private static byte[] encode(int value, int byteCount) {
        byte[] b = new byte[byteCount];
        if (byteCount == 1) {
            b[0] = (byte) value;
            return b;
        }
        b[0] = (byte) ((byteCount - 1) << 6 | value & 0x0F);
        for (int i = 1; i < byteCount; i++) {
            b[i] = (byte) (value >>> (4 + 8 * (i - 1)));
        }
        return b;
    }
}
