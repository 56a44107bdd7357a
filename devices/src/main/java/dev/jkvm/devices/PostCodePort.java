package dev.jkvm.devices;

/**
 * The POST diagnostic port 0x80: firmware writes progress codes to it, and Linux writes to it as an
 * I/O delay. Writes are accepted silently and the last one is remembered for the monitor (a guest
 * stuck at boot shows where); reads return 0xff, as QEMU's dummy port does.
 *
 * <pre>{@code
 * PostCodePort post = new PostCodePort();
 * bus.register(PostCodePort.PORT, 1, post);
 * post.lastCode();  // -1 until the guest writes
 * }</pre>
 */
public final class PostCodePort implements PortIoDevice {

    public static final int PORT = 0x80;

    private volatile int lastCode = -1;
    private volatile long writes;

    @Override
    public int read(int offset, int size) {
        return -1;
    }

    @Override
    public void write(int offset, int size, int value) {
        lastCode = value & 0xff;
        writes++; // racy between vCPUs, but only a statistic
    }

    /** The last byte written, or -1 if none. */
    public int lastCode() {
        return lastCode;
    }

    /** How many writes there were (approximately, with several vCPUs writing). */
    public long writes() {
        return writes;
    }

    @Override
    public String name() {
        return "post";
    }

    @Override
    public String describe() {
        int c = lastCode;
        return c < 0 ? name() + ": no code" : String.format("%s: last=%02x writes=%d", name(), c, writes);
    }

    @Override
    public String toString() {
        return describe();
    }
}
