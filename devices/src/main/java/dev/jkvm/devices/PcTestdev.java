package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;

/**
 * QEMU's {@code pc-testdev} ({@code hw/misc/pc-testdev.c}), the device kvm-unit-tests' x86 tests
 * use for emulation and interrupt tests. Its five regions, each a view to register on a bus:
 *
 * <ul>
 *   <li>{@link #ioport()} at 0xe0 (4 ports): a 32-bit scratch register; an access of n bytes at
 *       offset k reaches the bytes from lane k, QEMU's arithmetic exactly
 *       ({@code mask = (~0 >>> (32 - 8n)) << 8k}, in 32 bits, so a wide access at a high offset keeps
 *       only the lanes that exist);
 *   <li>{@link #flushPort()} at 0xe4 (4 ports): a 4-byte write names a guest-physical page, which
 *       the machine unmaps and maps again in the host (QEMU: two {@code mprotect}s), so KVM drops
 *       its translation; the contents stay. Other sizes are ignored, reads return 0;
 *   <li>{@link #ioportBytes()} at 0xe8 (4 ports): the same register, taken a byte at a time as
 *       QEMU splits the access; bytes beyond 0xeb are not the device's (they read as all ones);
 *   <li>{@link #irqPorts()} at 0x2000 (24 ports): a byte write of non-zero to 0x2000 + n raises
 *       interrupt line n, zero lowers it (a level, so level-triggered tests can both assert and
 *       deassert); wider accesses are invalid and ignored; reads return 0;
 *   <li>{@link #iomem()} at 0xff000000 (64 KiB of MMIO): RAM-like, any width at any alignment.
 * </ul>
 *
 * <p>QEMU asserts for lines 16-23 (it asks the ISA bus for them); jkvm drives the I/O APIC's GSIs
 * 16-23 instead.
 */
public final class PcTestdev implements SavesState<PcTestdev.State> {

    public static final int IOPORT = 0xe0;
    public static final int FLUSH_PORT = 0xe4;
    public static final int IOPORT_BYTES = 0xe8;
    public static final int IRQ_PORTS = 0x2000;
    public static final int IRQ_LINES = 24;
    public static final long IOMEM_BASE = 0xff00_0000L;
    public static final int IOMEM_SIZE = 0x10000;

    private final IntFunction<IrqLine> irqs;
    private final LongConsumer pageFlush;
    private volatile int ioportData;
    private final byte[] iomem = new byte[IOMEM_SIZE];
    private final boolean[] levels = new boolean[IRQ_LINES];

    private final PortIoDevice ioport = new PortIoDevice() {
        @Override
        public int read(int offset, int size) {
            return lanes(ioportData, offset, size);
        }

        @Override
        public void write(int offset, int size, int value) {
            store(offset, size, value);
        }

        @Override
        public String name() {
            return "pc-testdev-ioport";
        }

        @Override
        public String describe() {
            return PcTestdev.this.describe();
        }
    };

    private final PortIoDevice ioportBytes = new PortIoDevice() {
        @Override
        public int read(int offset, int size) {
            int value = 0;
            int data = ioportData;
            for (int i = 0; i < size; i++) {
                int b = offset + i < 4 ? lanes(data, offset + i, 1) : 0xff;
                value |= b << (8 * i);
            }
            return value;
        }

        @Override
        public void write(int offset, int size, int value) {
            for (int i = 0; i < size && offset + i < 4; i++) {
                store(offset + i, 1, value >>> (8 * i));
            }
        }

        @Override
        public String name() {
            return "pc-testdev-ioport-byte";
        }
    };

    private final PortIoDevice flushPort = new PortIoDevice() {
        @Override
        public int read(int offset, int size) {
            return 0;
        }

        @Override
        public void write(int offset, int size, int value) {
            if (offset == 0 && size == 4) {
                pageFlush.accept(Integer.toUnsignedLong(value) & ~0xfffL);
            }
        }

        @Override
        public String name() {
            return "pc-testdev-flush-page";
        }
    };

    private final PortIoDevice irqPorts = new PortIoDevice() {
        @Override
        public int read(int offset, int size) {
            return 0;
        }

        @Override
        public void write(int offset, int size, int value) {
            if (size != 1 || offset >= IRQ_LINES) {
                return; // QEMU: only byte accesses are valid
            }
            boolean level = (value & 0xff) != 0;
            synchronized (levels) {
                levels[offset] = level;
            }
            irqs.apply(offset).set(level);
        }

        @Override
        public String name() {
            return "pc-testdev-irq-line";
        }
    };

    private final MmioDevice iomemDevice = new MmioDevice() {
        @Override
        public long read(long offset, int size) {
            long value = 0;
            synchronized (iomem) {
                for (int i = 0; i < size; i++) {
                    long at = offset + i;
                    long b = at < IOMEM_SIZE ? iomem[(int) at] & 0xff : 0xff;
                    value |= b << (8 * i);
                }
            }
            return value;
        }

        @Override
        public void write(long offset, int size, long value) {
            synchronized (iomem) {
                for (int i = 0; i < size && offset + i < IOMEM_SIZE; i++) {
                    iomem[(int) (offset + i)] = (byte) (value >>> (8 * i));
                }
            }
        }

        @Override
        public String name() {
            return "pc-testdev-iomem";
        }
    };

    /**
     * @param irqs the machine's interrupt lines by number (0-23)
     * @param pageFlush told the guest-physical address of a page to unmap and map again
     */
    public PcTestdev(IntFunction<IrqLine> irqs, LongConsumer pageFlush) {
        this.irqs = Objects.requireNonNull(irqs, "irqs");
        this.pageFlush = Objects.requireNonNull(pageFlush, "pageFlush");
    }

    /** Registers the four port regions and the MMIO window where QEMU puts them. */
    public void registerOn(PortBus ports, MmioBus mmio) {
        ports.register(IOPORT, 4, ioport);
        ports.register(FLUSH_PORT, 4, flushPort);
        ports.register(IOPORT_BYTES, 4, ioportBytes);
        ports.register(IRQ_PORTS, IRQ_LINES, irqPorts);
        mmio.register(IOMEM_BASE, IOMEM_SIZE, iomemDevice);
    }

    public PortIoDevice ioport() {
        return ioport;
    }

    public PortIoDevice flushPort() {
        return flushPort;
    }

    public PortIoDevice ioportBytes() {
        return ioportBytes;
    }

    public PortIoDevice irqPorts() {
        return irqPorts;
    }

    public MmioDevice iomem() {
        return iomemDevice;
    }

    /** The scratch register. */
    public int ioportData() {
        return ioportData;
    }

    /** Whether the device holds line {@code n} high. */
    public boolean level(int n) {
        synchronized (levels) {
            return levels[n];
        }
    }

    /** {@code pc-testdev: data=0x... lines high=4,9}. */
    public String describe() {
        StringBuilder high = new StringBuilder();
        synchronized (levels) {
            for (int i = 0; i < IRQ_LINES; i++) {
                if (levels[i]) {
                    high.append(high.isEmpty() ? "" : ",").append(i);
                }
            }
        }
        return String.format("pc-testdev: data=0x%08x lines high=%s", ioportData, high.isEmpty() ? "none" : high);
    }

    /** The guest-visible state: the scratch register, the IORAM window and the lines the guest raised. */
    public record State(int ioportData, byte[] iomem, boolean[] levels) {
        public State {
            if (iomem.length != IOMEM_SIZE || levels.length != IRQ_LINES) {
                throw new IllegalArgumentException("pc-testdev state of " + iomem.length + " IORAM bytes and "
                        + levels.length + " lines (not " + IOMEM_SIZE + " and " + IRQ_LINES + ")");
            }
        }
    }

    @Override
    public State saveState() {
        byte[] ram;
        synchronized (iomem) {
            ram = iomem.clone();
        }
        synchronized (levels) {
            return new State(ioportData, ram, levels.clone());
        }
    }

    /** Puts the device back; every line is driven to its saved level. */
    @Override
    public void restoreState(State s) {
        synchronized (this) {
            ioportData = s.ioportData();
        }
        synchronized (iomem) {
            System.arraycopy(s.iomem(), 0, iomem, 0, IOMEM_SIZE);
        }
        boolean[] l;
        synchronized (levels) {
            System.arraycopy(s.levels(), 0, levels, 0, IRQ_LINES);
            l = levels.clone();
        }
        for (int i = 0; i < IRQ_LINES; i++) {
            irqs.apply(i).set(l[i]);
        }
    }

    private static int mask(int offset, int size) {
        return (-1 >>> (32 - 8 * size)) << (8 * (offset & 3));
    }

    /** QEMU's test_ioport_read: the lanes from {@code offset}, shifted down. */
    private static int lanes(int data, int offset, int size) {
        return (data & mask(offset, size)) >>> (8 * (offset & 3));
    }

    /** QEMU's test_ioport_write, in 32 bits. */
    private synchronized void store(int offset, int size, int value) {
        int m = mask(offset, size);
        int shifted = (int) ((Integer.toUnsignedLong(value) & (-1L >>> (64 - 8 * size))) << (8 * (offset & 3)));
        ioportData = (ioportData & ~m) | shifted;
    }
}
