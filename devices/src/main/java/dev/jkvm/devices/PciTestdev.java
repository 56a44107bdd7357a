package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * QEMU's {@code pci-testdev} ({@code hw/misc/pci-testdev.c}): PCI function 1b36:0005 (Red Hat,
 * class 0x00ff "other", no interrupt pin) with BAR0, 4 KiB of 32-bit MMIO, and BAR1, 256 I/O ports,
 * carrying QEMU's I/O notification tests, which kvm-unit-tests' {@code pci_testdev} runs.
 *
 * <p>The protocol, per region (MMIO is type 0, port I/O type 1): writing {@code t} to offset 0
 * selects test {@code t} (0 {@code no-eventfd}, 1 {@code wildcard-eventfd}, 2
 * {@code datamatch-eventfd}; anything else deselects). The region then reads as the test's header,
 * byte by byte: {@code test} (u8 = type * 3 + t), {@code width} (u8, 1), pad, {@code offset}
 * (u32: 2048 + index for MMIO, 128 + index for I/O), {@code data} (u8: 0xFA to match, 0xCE for the
 * wildcard test), pad, {@code count} (u32), then the NUL-terminated name
 * ({@code mmio-no-eventfd}, ..., {@code portio-datamatch-eventfd}); bytes from the header's end on
 * read 0. A write at {@code offset} counts when the test takes any data or when both size and
 * value match. QEMU hands the two eventfd tests to KVM's ioeventfd, so under QEMU their count stays
 * 0 (the notification went to an eventfd); jkvm counts every notification itself, and the guest's
 * check ({@code count == 0 || count == writes}) passes either way.
 *
 * <p>Configuration space and BARs: writable command bits, BARs sized the PCI way (all ones reads
 * back the size mask), and the regions decoded only where the BARs point with memory/I/O decoding
 * enabled, so a guest that moves a BAR finds the device there. The machine presets what SeaBIOS
 * assigns under QEMU: BAR0 0xfebff000, BAR1 0xc000, command I/O + memory, at 00:02.0.
 */
public final class PciTestdev implements PciFunction, SavesState<PciTestdev.State> {

    public static final int VENDOR_ID = 0x1b36;
    public static final int DEVICE_ID = 0x0005;
    public static final int MMIO_SIZE = 4096;
    public static final int IO_SIZE = 256;
    /** Where SeaBIOS puts the BARs under QEMU's pc with {@code -nodefaults}. */
    public static final long DEFAULT_MMIO_BASE = 0xfebff000L;
    public static final int DEFAULT_IO_BASE = 0xc000;

    private static final int BAR0 = 0x10;
    private static final int BAR1 = 0x14;
    private static final int CMD_IO = 1;
    private static final int CMD_MEM = 2;
    private static final String[] TESTS = {"no-eventfd", "wildcard-eventfd", "datamatch-eventfd"};
    private static final String[] TYPES = {"mmio", "portio"};
    private static final int DATAMATCH = 0xFA;
    private static final int NOMATCH = 0xCE;
    /** Header: test, width, pad[2], offset, data, pad[3], count; the name follows. */
    private static final int HEADER = 16;
    private static final int COUNT = 12;

    private final PortBus ports;
    private final MmioBus mmioBus;
    private final PciConfigSpace config;
    private int bar0;
    private int bar1;
    private long mappedMmio = -1;
    private int mappedIo = -1;
    /** Per test: the header bytes (count updated in place). */
    private final byte[][] headers = new byte[TESTS.length * TYPES.length][];
    private final boolean[] matchData = new boolean[headers.length];
    private int current = -1;
    /** What {@link #assignAsFirmware} set, restored at every reset (0: unassigned). */
    private int firmwareMmio;
    private int firmwareIo;

    private final MmioDevice mmio = new MmioDevice() {
        @Override
        public long read(long offset, int size) {
            long v = 0;
            for (int i = 0; i < size; i++) {
                v |= (long) readByte(offset + i) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(long offset, int size, long value) {
            access(0, offset, size, value);
        }

        @Override
        public String name() {
            return "pci-testdev-mmio";
        }
    };

    private final PortIoDevice io = new PortIoDevice() {
        @Override
        public int read(int offset, int size) {
            int v = 0;
            for (int i = 0; i < size; i++) {
                v |= readByte(offset + i) << (8 * i);
            }
            return v;
        }

        @Override
        public void write(int offset, int size, int value) {
            access(1, offset, size, Integer.toUnsignedLong(value));
        }

        @Override
        public String name() {
            return "pci-testdev-portio";
        }

        @Override
        public String describe() {
            return PciTestdev.this.describe();
        }
    };

    /** Decodes its BARs on {@code ports} and {@code mmioBus}. */
    public PciTestdev(PortBus ports, MmioBus mmioBus) {
        this.ports = Objects.requireNonNull(ports, "ports");
        this.mmioBus = Objects.requireNonNull(mmioBus, "mmioBus");
        config = new PciConfigSpace("pci-testdev", VENDOR_ID, DEVICE_ID, 0x00, 0x00ff00, 0x00);
        config.preset(PciConfigSpace.SUBSYSTEM_VENDOR_ID, 2, 0x1af4);
        config.preset(PciConfigSpace.SUBSYSTEM_ID, 2, 0x1100);
        bar1 = 1;
        for (int i = 0; i < headers.length; i++) {
            String name = TYPES[i / TESTS.length] + "-" + TESTS[i % TESTS.length];
            byte[] h = new byte[HEADER + name.length() + 1];
            boolean mem = i / TESTS.length == 0;
            int notifyOffset = (mem ? MMIO_SIZE / 2 : IO_SIZE / 2) + i;
            matchData[i] = i % TESTS.length != 1;
            h[0] = (byte) i;
            h[1] = 1;
            putInt(h, 4, notifyOffset);
            h[8] = (byte) (matchData[i] ? DATAMATCH : NOMATCH);
            System.arraycopy(name.getBytes(StandardCharsets.US_ASCII), 0, h, HEADER, name.length());
            headers[i] = h;
        }
    }

    /** The BAR values and command SeaBIOS leaves under QEMU, so a kernel booted directly finds it mapped. */
    public synchronized void assignAsFirmware(long mmioBase, int ioBase) {
        firmwareMmio = (int) mmioBase;
        firmwareIo = ioBase;
        reset();
    }

    @Override
    public synchronized int readConfig(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int b;
            if (at >= BAR0 && at < BAR0 + 4) {
                b = (bar0 >>> (8 * (at - BAR0))) & 0xff;
            } else if (at >= BAR1 && at < BAR1 + 4) {
                b = (bar1 >>> (8 * (at - BAR1))) & 0xff;
            } else {
                b = config.readConfig(at, 1);
            }
            value |= b << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void writeConfig(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int b = (value >>> (8 * i)) & 0xff;
            if (at >= BAR0 && at < BAR0 + 4) {
                bar0 = withByte(bar0, at - BAR0, b) & ~(MMIO_SIZE - 1); // 32-bit, non-prefetchable memory
            } else if (at >= BAR1 && at < BAR1 + 4) {
                bar1 = (withByte(bar1, at - BAR1, b) & ~(IO_SIZE - 1)) | 1;
            } else {
                config.writeConfig(at, 1, b);
            }
        }
        remap();
    }

    @Override
    public synchronized void reset() {
        config.reset();
        current = -1;
        bar0 = firmwareMmio;
        bar1 = firmwareIo | 1;
        if (firmwareMmio != 0 || firmwareIo != 0) {
            config.writeConfig(PciConfigSpace.COMMAND, 2, CMD_IO | CMD_MEM); // as the firmware leaves it at every boot
        }
        remap();
    }

    @Override
    public String name() {
        return "pci-testdev";
    }

    /** {@code pci-testdev: bar0=0xfebff000 (mapped) bar1=0xc000 (mapped) test=none}. */
    public synchronized String describe() {
        return String.format("pci-testdev: bar0=0x%08x%s bar1=0x%04x%s test=%s", bar0, mappedMmio >= 0 ? " (mapped)" : "",
                bar1 & ~1, mappedIo >= 0 ? " (mapped)" : "", current < 0 ? "none" : nameOf(current));
    }

    /** Where BAR0 decodes now, or -1. */
    public synchronized long mappedMmio() {
        return mappedMmio;
    }

    /** Where BAR1 decodes now, or -1. */
    public synchronized int mappedIo() {
        return mappedIo;
    }

    /** The I/O region (for tests). */
    public PortIoDevice io() {
        return io;
    }

    /** The MMIO region (for tests). */
    public MmioDevice mmio() {
        return mmio;
    }

    /** QEMU's pci_testdev_write, after QEMU has split the access into bytes (impl size 1). */
    private synchronized void access(int type, long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            byteWrite(type, offset + i, (int) (value >>> (8 * i)) & 0xff);
        }
    }

    private void byteWrite(int type, long addr, int val) {
        if (addr == 0) {
            current = -1;
            if (val < TESTS.length) {
                current = type * TESTS.length + val;
                putInt(headers[current], COUNT, 0);
            }
            return;
        }
        if (current < 0) {
            return;
        }
        byte[] h = headers[current];
        if (addr != getInt(h, 4)) {
            return;
        }
        if (matchData[current] && val != (h[8] & 0xff)) {
            return;
        }
        putInt(h, COUNT, getInt(h, COUNT) + 1);
    }

    private synchronized int readByte(long addr) {
        if (current < 0) {
            return 0;
        }
        byte[] h = headers[current];
        return addr + 1 >= h.length ? 0 : h[(int) addr] & 0xff; // QEMU: addr + size >= bufsize reads 0
    }

    private String nameOf(int test) {
        byte[] h = headers[test];
        return new String(h, HEADER, h.length - HEADER - 1, StandardCharsets.US_ASCII);
    }

    /**
     * The guest-visible state: configuration space, both BARs, the selected test and each test's
     * notification count.
     */
    public record State(byte[] config, int bar0, int bar1, int current, int[] counts) {
        public State {
            if (config.length != PciConfigSpace.SIZE || counts.length != TESTS.length * TYPES.length) {
                throw new IllegalArgumentException("pci-testdev state of " + config.length + " configuration bytes and "
                        + counts.length + " tests");
            }
        }
    }

    @Override
    public synchronized State saveState() {
        int[] counts = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            counts[i] = getInt(headers[i], COUNT);
        }
        return new State(config.configBytes(), bar0, bar1, current, counts);
    }

    /** Puts the device back and decodes its regions where the saved BARs say. */
    @Override
    public synchronized void restoreState(State s) {
        if (s.counts().length != headers.length || s.current() < -1 || s.current() >= headers.length) {
            throw new IllegalArgumentException("pci-testdev state with " + s.counts().length + " tests, test " + s.current());
        }
        config.restoreConfig(s.config());
        bar0 = s.bar0() & ~(MMIO_SIZE - 1);
        bar1 = (s.bar1() & ~(IO_SIZE - 1)) | 1;
        current = s.current();
        for (int i = 0; i < headers.length; i++) {
            putInt(headers[i], COUNT, s.counts()[i]);
        }
        remap();
    }

    /** Moves the regions to where the BARs and the command register say (QEMU's pci_update_mappings). */
    private void remap() {
        int command = config.readConfig(PciConfigSpace.COMMAND, 2);
        long wantMmio = -1;
        long base = Integer.toUnsignedLong(bar0);
        if ((command & CMD_MEM) != 0 && base != 0 && base + MMIO_SIZE - 1 < 0xffff_ffffL) {
            wantMmio = base;
        }
        int wantIo = -1;
        int ioBase = bar1 & ~3;
        if ((command & CMD_IO) != 0 && ioBase != 0 && ioBase + IO_SIZE <= PortBus.PORT_COUNT) {
            wantIo = ioBase;
        }
        if (wantMmio != mappedMmio) {
            mmioBus.unregister(mmio);
            mappedMmio = -1;
            if (wantMmio >= 0) {
                try {
                    mmioBus.register(wantMmio, MMIO_SIZE, mmio);
                    mappedMmio = wantMmio;
                } catch (IllegalArgumentException overlap) {
                    // another device is there: in QEMU the higher-priority region wins; here the BAR stays dark
                }
            }
        }
        if (wantIo != mappedIo) {
            ports.unregister(io);
            mappedIo = -1;
            if (wantIo >= 0) {
                try {
                    ports.register(wantIo, IO_SIZE, io);
                    mappedIo = wantIo;
                } catch (IllegalArgumentException overlap) {
                    // as above
                }
            }
        }
    }

    private static int withByte(int word, int index, int b) {
        return (word & ~(0xff << (8 * index))) | (b << (8 * index));
    }

    private static void putInt(byte[] b, int at, int v) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }

    private static int getInt(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
