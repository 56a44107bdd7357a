package dev.jkvm.vmm.serial;

import java.util.Arrays;

/**
 * The most recent {@code limit} bytes of a stream: older bytes are dropped from the front (and
 * counted). Its array grows by doubling up to the limit, so a console that sees little output costs
 * little. Not thread-safe: its owner's lock guards it.
 */
final class ByteRing {

    private static final int INITIAL = 4096;

    private final int limit;
    private byte[] buf;
    private int head;
    private int size;
    private long dropped;

    ByteRing(int limit) {
        this.limit = limit;
        this.buf = new byte[Math.min(INITIAL, limit)];
    }

    void put(byte b) {
        if (size == buf.length && buf.length < limit) {
            byte[] bigger = new byte[Math.min(limit, buf.length * 2)];
            copyTo(bigger);
            buf = bigger;
            head = 0;
        }
        if (size == buf.length) {
            buf[head] = b; // full at the limit: the oldest byte makes room
            head = (head + 1) % buf.length;
            dropped++;
        } else {
            buf[(head + size) % buf.length] = b;
            size++;
        }
    }

    private void copyTo(byte[] dst) {
        int first = Math.min(size, buf.length - head);
        System.arraycopy(buf, head, dst, 0, first);
        System.arraycopy(buf, 0, dst, first, size - first);
    }

    byte[] toByteArray() {
        byte[] out = new byte[size];
        copyTo(out);
        return out;
    }

    int size() {
        return size;
    }

    /** Bytes dropped from the front so far. */
    long dropped() {
        return dropped;
    }

    void clear() {
        head = 0;
        size = 0;
        Arrays.fill(buf, (byte) 0);
    }
}
