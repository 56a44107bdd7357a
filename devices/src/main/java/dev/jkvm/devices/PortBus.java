package dev.jkvm.devices;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The x86 64 KiB port-I/O space: routes each guest {@code in}/{@code out} to the device registered
 * over that port, passing the offset from the device's base.
 *
 * <p>Why this shape: the bus runs once per port-I/O exit, so dispatch is O(1) and allocation-free: a
 * two-level {@code char} table (256 pages of 256 ports) maps every port to a registration slot, and
 * parallel arrays give the slot's base and device. The table is immutable and replaced on
 * {@link #register} (copy on write, published through one volatile field), so vCPU threads read it
 * without locks even if a device is registered while they run; a registration copies only the pages
 * it touches, so setting up a machine's dozen devices costs microseconds, not a 128 KiB copy each.
 *
 * <p>An access is dispatched by its first port: a 2- or 4-byte access that runs past the end of a
 * device still goes to that device, which sees offsets beyond its length and decides (the models here
 * read those bytes as all ones). Ports nobody claims read as all ones of the access size (an empty
 * ISA bus floats high) and swallow writes; the optional {@link UnhandledAccessListener} hears of them.
 *
 * <pre>{@code
 * PortBus bus = new PortBus();
 * bus.register(0x3f8, 8, com1);
 * bus.read(0x3fd, 1);   // com1.read(5, 1)
 * bus.read(0x80, 1);    // 0xff, listener told
 * }</pre>
 */
public final class PortBus {

    /** Number of ports: 0x0000..0xffff. */
    public static final int PORT_COUNT = 0x10000;

    /** One device on the bus: ports {@code base .. base + length - 1}. */
    public record Registration(int base, int length, PortIoDevice device) {
        public Registration {
            Objects.requireNonNull(device, "device");
        }

        /** The last port of the range (inclusive). */
        public int last() {
            return base + length - 1;
        }

        @Override
        public String toString() {
            return String.format("0x%04x-0x%04x %s", base, last(), device.name());
        }
    }

    /** Immutable dispatch table; replaced wholesale on registration. */
    private static final class Table {
        /** Per port ({@code [port >>> 8][port & 0xff]}): 0 when unclaimed, otherwise index + 1 into {@link #bases}/{@link #devices}. */
        final char[][] slotByPort;
        final int[] bases;
        final PortIoDevice[] devices;
        /** Registrations sorted by base, for listings. */
        final List<Registration> registrations;

        Table(char[][] slotByPort, int[] bases, PortIoDevice[] devices, List<Registration> registrations) {
            this.slotByPort = slotByPort;
            this.bases = bases;
            this.devices = devices;
            this.registrations = registrations;
        }
    }

    /** The page every port of an unclaimed 256-port range shares. */
    private static final char[] EMPTY_PAGE = new char[256];

    private volatile Table table = new Table(emptyPages(), new int[0], new PortIoDevice[0], List.of());

    private static char[][] emptyPages() {
        char[][] pages = new char[PORT_COUNT >>> 8][];
        Arrays.fill(pages, EMPTY_PAGE);
        return pages;
    }

    private static int slotOf(Table t, int port) {
        return t.slotByPort[port >>> 8][port & 0xff];
    }
    private volatile UnhandledAccessListener unhandledListener;

    /**
     * Claims ports {@code base .. base + length - 1} for {@code device}.
     *
     * @throws IllegalArgumentException if the range leaves the port space, is empty, or overlaps a
     *         registered device (the message names both devices and their ports)
     */
    public synchronized void register(int base, int length, PortIoDevice device) {
        Objects.requireNonNull(device, "device");
        if (length <= 0 || base < 0 || base > PORT_COUNT - length) {
            throw new IllegalArgumentException(String.format(
                    "cannot register %s at base 0x%x length %d: outside ports 0x0000-0xffff",
                    device.name(), base, length));
        }
        Table old = table;
        for (int port = base; port < base + length; port++) {
            int slot = slotOf(old, port);
            if (slot != 0) {
                int i = slot - 1;
                Registration other = registrationAt(old, old.bases[i]);
                throw new IllegalArgumentException(String.format(
                        "cannot register %s at ports 0x%04x-0x%04x: port 0x%04x already belongs to %s at ports 0x%04x-0x%04x",
                        device.name(), base, base + length - 1, port,
                        other.device().name(), other.base(), other.last()));
            }
        }
        int n = old.devices.length;
        if (n + 1 > Character.MAX_VALUE) {
            throw new IllegalStateException("too many port devices");
        }
        char[][] slots = old.slotByPort.clone();
        for (int port = base; port < base + length; port++) {
            int page = port >>> 8;
            if (slots[page] == old.slotByPort[page]) {
                slots[page] = old.slotByPort[page].clone(); // copy on first write to this page
            }
            slots[page][port & 0xff] = (char) (n + 1);
        }
        int[] bases = Arrays.copyOf(old.bases, n + 1);
        bases[n] = base;
        PortIoDevice[] devices = Arrays.copyOf(old.devices, n + 1);
        devices[n] = device;
        // sorted by base: the new one goes where its base belongs, one copy (a board registers ~25 ranges per machine)
        Registration[] regs = new Registration[n + 1];
        int at = 0;
        for (Registration r : old.registrations) {
            if (r.base() < base) {
                regs[at++] = r;
            }
        }
        regs[at] = new Registration(base, length, device);
        for (Registration r : old.registrations) {
            if (r.base() > base) {
                regs[++at] = r;
            }
        }
        table = new Table(slots, bases, devices, Collections.unmodifiableList(Arrays.asList(regs)));
    }

    /**
     * Removes every range of {@code device} (a PCI I/O BAR being moved or disabled); a no-op when it
     * has none. The table is rebuilt from the remaining registrations.
     */
    public synchronized void unregister(PortIoDevice device) {
        List<Registration> keep = new ArrayList<>(table.registrations);
        if (!keep.removeIf(r -> r.device() == device)) {
            return;
        }
        PortBus fresh = new PortBus(); // built aside, published at once: a vCPU never sees a half table
        for (Registration r : keep) {
            fresh.register(r.base(), r.length(), r.device());
        }
        table = fresh.table;
    }

    private static Registration registrationAt(Table t, int base) {
        for (Registration r : t.registrations) {
            if (r.base() == base) {
                return r;
            }
        }
        throw new AssertionError("no registration at base " + base);
    }

    /**
     * Reads {@code size} (1, 2, 4) bytes at {@code port}.
     *
     * @return the device's value masked to the access size, or all ones of that size if the port is
     *         unclaimed ({@code 0xff}, {@code 0xffff}, {@code 0xffffffff})
     * @throws IllegalArgumentException for a port outside 0..0xffff or another size
     */
    public int read(int port, int size) {
        int mask = sizeMask(size);
        checkPort(port);
        Table t = table;
        int slot = slotOf(t, port);
        if (slot != 0) {
            int i = slot - 1;
            return t.devices[i].read(port - t.bases[i], size) & mask;
        }
        UnhandledAccessListener l = unhandledListener;
        if (l != null) {
            l.unhandledAccess(false, port, size, mask & 0xffff_ffffL);
        }
        return mask;
    }

    /**
     * Writes the low {@code 8 * size} bits of {@code value} at {@code port}; ignored (and reported to
     * the listener) when the port is unclaimed.
     *
     * @throws IllegalArgumentException for a port outside 0..0xffff or a size other than 1, 2, 4
     */
    public void write(int port, int size, int value) {
        int mask = sizeMask(size);
        checkPort(port);
        Table t = table;
        int slot = slotOf(t, port);
        if (slot != 0) {
            int i = slot - 1;
            t.devices[i].write(port - t.bases[i], size, value & mask);
            return;
        }
        UnhandledAccessListener l = unhandledListener;
        if (l != null) {
            l.unhandledAccess(true, port, size, value & mask & 0xffff_ffffL);
        }
    }

    /** The device claiming {@code port}, or {@code null}. */
    public PortIoDevice deviceAt(int port) {
        checkPort(port);
        Table t = table;
        int slot = slotOf(t, port);
        return slot == 0 ? null : t.devices[slot - 1];
    }

    /** All registrations, sorted by base port (an immutable snapshot). */
    public List<Registration> devices() {
        return table.registrations;
    }

    /** Sets (or with {@code null} removes) the listener told about unclaimed accesses. */
    public void setUnhandledAccessListener(UnhandledAccessListener listener) {
        this.unhandledListener = listener;
    }

    private static int sizeMask(int size) {
        return switch (size) {
            case 1 -> 0xff;
            case 2 -> 0xffff;
            case 4 -> 0xffff_ffff;
            default -> throw new IllegalArgumentException("port access size must be 1, 2 or 4: " + size);
        };
    }

    private static void checkPort(int port) {
        if ((port & ~0xffff) != 0) {
            throw new IllegalArgumentException("port outside 0x0000-0xffff: " + port);
        }
    }
}
