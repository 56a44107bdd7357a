package dev.jkvm.devices;

import java.util.Objects;

/**
 * A conventional PCI function's 256-byte configuration space with per-bit write semantics: a
 * function with no behaviour beyond its registers, such as the host bridge.
 *
 * <p>Each bit is read-only, writable, or write-1-to-clear, as QEMU's generic PCI device sets them up:
 * writable are the command bits I/O, memory, bus master, parity, SERR and INTx disable, the cache line
 * size, the latency timer, the interrupt line and the whole device-specific area 0x40-0xff;
 * the status error bits (8, 11-15) clear when written with 1; everything else, the IDs, class,
 * header type and BARs included, ignores writes (so BARs size as "not implemented": they read 0
 * after writing all ones). {@link #preset} sets initial values regardless of the masks.
 *
 * <pre>{@code
 * PciConfigSpace f = new PciConfigSpace("i440fx", 0x8086, 0x1237, 0x02, 0x060000, 0x00);
 * f.preset(0x72, 1, 0x02);
 * }</pre>
 */
public final class PciConfigSpace implements PciFunction {

    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION = 0x08;
    public static final int CLASS_PROG = 0x09;
    public static final int CACHE_LINE_SIZE = 0x0c;
    public static final int LATENCY_TIMER = 0x0d;
    public static final int HEADER_TYPE = 0x0e;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2c;
    public static final int SUBSYSTEM_ID = 0x2e;
    public static final int INTERRUPT_LINE = 0x3c;
    /** Size of the configuration space. */
    public static final int SIZE = 256;

    private static final int COMMAND_WRITABLE = 0x0547; // IO MEM MASTER PARITY SERR INTX_DISABLE
    private static final int STATUS_W1C = 0xf900;       // parity, target/master aborts, SERR, parity error

    private final String name;
    private final byte[] config = new byte[SIZE];
    private final byte[] writable = new byte[SIZE];
    private final byte[] writeOneToClear = new byte[SIZE];
    /** The power-on contents: the constructor's and {@link #preset}'s values. */
    private final byte[] powerOn = new byte[SIZE];

    /**
     * @param classCode  24 bits: base class, subclass, programming interface (0x060000: host bridge)
     * @param headerType byte 0x0e (0 for a single-function endpoint)
     */
    public PciConfigSpace(String name, int vendorId, int deviceId, int revision, int classCode,
            int headerType) {
        this.name = Objects.requireNonNull(name, "name");
        put(config, VENDOR_ID, 2, vendorId);
        put(config, DEVICE_ID, 2, deviceId);
        put(config, REVISION, 1, revision);
        put(config, CLASS_PROG, 3, classCode);
        put(config, HEADER_TYPE, 1, headerType);
        put(writable, COMMAND, 2, COMMAND_WRITABLE);
        put(writable, CACHE_LINE_SIZE, 1, 0xff);
        put(writable, LATENCY_TIMER, 1, 0xff);
        put(writable, INTERRUPT_LINE, 1, 0xff);
        for (int i = 0x40; i < SIZE; i++) {
            writable[i] = (byte) 0xff;
        }
        put(writeOneToClear, STATUS, 2, STATUS_W1C);
        System.arraycopy(config, 0, powerOn, 0, SIZE);
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * Sets {@code size} bytes at {@code offset} to {@code value}, ignoring the write masks; the value
     * is also what {@link #reset()} restores.
     */
    public synchronized void preset(int offset, int size, int value) {
        Objects.checkFromIndexSize(offset, size, SIZE);
        put(config, offset, size, value);
        put(powerOn, offset, size, value);
    }

    /** Restores the power-on contents (guest writes since then are lost). */
    @Override
    public synchronized void reset() {
        System.arraycopy(powerOn, 0, config, 0, SIZE);
    }

    /** The 256 bytes of configuration space as the guest left them. */
    public synchronized byte[] configBytes() {
        return config.clone();
    }

    /** Puts saved configuration bytes back. */
    public synchronized void restoreConfig(byte[] saved) {
        if (saved.length != SIZE) {
            throw new IllegalArgumentException("PCI configuration space of " + saved.length + " bytes, not " + SIZE);
        }
        System.arraycopy(saved, 0, config, 0, SIZE);
    }

    /** Makes {@code size} bytes at {@code offset} ignore guest writes. */
    public synchronized void makeReadOnly(int offset, int size) {
        Objects.checkFromIndexSize(offset, size, SIZE);
        put(writable, offset, size, 0);
    }

    @Override
    public synchronized int readConfig(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size && offset + i < SIZE; i++) {
            value |= (config[offset + i] & 0xff) << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void writeConfig(int offset, int size, int value) {
        for (int i = 0; i < size && offset + i < SIZE; i++) {
            int at = offset + i;
            int v = (value >>> (8 * i)) & 0xff;
            int w = writable[at] & 0xff;
            int c = config[at] & 0xff;
            c = (c & ~w) | (v & w);
            c &= ~(v & writeOneToClear[at]);
            config[at] = (byte) c;
        }
    }

    private static void put(byte[] b, int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            b[offset + i] = (byte) (value >>> (8 * i));
        }
    }
}
