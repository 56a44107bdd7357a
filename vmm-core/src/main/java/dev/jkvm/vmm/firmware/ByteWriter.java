package dev.jkvm.vmm.firmware;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer for building firmware tables, with patching of fields
 * (lengths, checksums, pointers) whose value is known only once the rest is written.
 *
 * <pre>{@code
 * ByteWriter w = new ByteWriter();
 * w.ascii("PCMP", 4).u16(0).u8(4);
 * w.putU16(4, w.position());
 * }</pre>
 */
public final class ByteWriter {

    private byte[] bytes = new byte[256];
    private int length;

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }

    /** How many bytes have been written: the offset the next one lands at. */
    public int position() {
        return length;
    }

    public ByteWriter u8(int value) {
        ensure(1);
        bytes[length++] = (byte) value;
        return this;
    }

    public ByteWriter u16(int value) {
        return u8(value).u8(value >>> 8);
    }

    public ByteWriter u32(long value) {
        return u16((int) value).u16((int) (value >>> 16));
    }

    public ByteWriter u64(long value) {
        return u32(value).u32(value >>> 32);
    }

    public ByteWriter bytes(byte[] data) {
        ensure(data.length);
        System.arraycopy(data, 0, bytes, length, data.length);
        length += data.length;
        return this;
    }

    public ByteWriter zeros(int count) {
        ensure(count);
        length += count; // the array is zero beyond length: it only ever grows
        return this;
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    public ByteWriter align(int alignment) {
        return zeros((alignment - length % alignment) % alignment);
    }

    /**
     * {@code text} in exactly {@code width} bytes, padded with spaces (the convention of the ACPI
     * OEM fields and the MP table's strings).
     *
     * @throws IllegalArgumentException if it is longer, or not ASCII
     */
    public ByteWriter ascii(String text, int width) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        if (b.length > width || !StandardCharsets.US_ASCII.newEncoder().canEncode(text)) {
            throw new IllegalArgumentException("\"" + text + "\" does not fit " + width + " ASCII bytes");
        }
        bytes(b);
        for (int i = b.length; i < width; i++) {
            u8(' ');
        }
        return this;
    }

    public void putU8(int offset, int value) {
        check(offset, 1);
        bytes[offset] = (byte) value;
    }

    public void putU16(int offset, int value) {
        check(offset, 2);
        bytes[offset] = (byte) value;
        bytes[offset + 1] = (byte) (value >>> 8);
    }

    public void putU32(int offset, long value) {
        putU16(offset, (int) value);
        putU16(offset + 2, (int) (value >>> 16));
    }

    private void check(int offset, int size) {
        if (offset < 0 || offset + size > length) {
            throw new IndexOutOfBoundsException("field at " + offset + " outside " + length + " bytes");
        }
    }

    /** Sets byte {@code offset} so that bytes {@code [from, to)} sum to zero (it must lie inside). */
    public void fixChecksum(int offset, int from, int to) {
        check(from, to - from);
        putU8(offset, 0);
        putU8(offset, Checksum.complement(bytes, from, to));
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, length);
    }
}
