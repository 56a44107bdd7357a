package dev.jkvm.devices;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The guest-physical MMIO space: routes each MMIO exit to the device whose range holds the address,
 * passing the offset from that range's base.
 *
 * <p>Why this shape: guest-physical addresses are 64-bit and sparse, so instead of a per-address
 * table the bus keeps the ranges sorted by base in primitive arrays and finds the candidate with a
 * binary search: O(log n), no allocation, no locks. The arrays are immutable and replaced on
 * {@link #register} (copy on write, published through one volatile field), so vCPU threads may access
 * the bus while devices are registered. Registration is expected at machine setup and may be slow.
 *
 * <p>Accesses are dispatched by their first byte; one that runs past the end of a range still goes
 * to that device. Addresses nobody claims read as all ones of the access size and swallow writes;
 * the optional {@link UnhandledAccessListener} hears of them. (RAM never reaches this bus: KVM only
 * exits for addresses without a memory slot.)
 */
public final class MmioBus {

    /** One device on the bus: guest-physical {@code base .. base + length - 1}. */
    public record Registration(long base, long length, MmioDevice device) {
        public Registration {
            Objects.requireNonNull(device, "device");
        }

        /** The last address of the range (inclusive). */
        public long last() {
            return base + length - 1;
        }

        @Override
        public String toString() {
            return String.format("0x%016x-0x%016x %s", base, last(), device.name());
        }
    }

    /** Immutable lookup arrays, sorted by base; replaced wholesale on registration. */
    private static final class Table {
        final long[] bases;
        final long[] lasts;
        final MmioDevice[] devices;
        final List<Registration> registrations;

        Table(List<Registration> sorted) {
            int n = sorted.size();
            bases = new long[n];
            lasts = new long[n];
            devices = new MmioDevice[n];
            for (int i = 0; i < n; i++) {
                Registration r = sorted.get(i);
                bases[i] = r.base();
                lasts[i] = r.last();
                devices[i] = r.device();
            }
            registrations = List.copyOf(sorted);
        }
    }

    private volatile Table table = new Table(List.of());
    private volatile UnhandledAccessListener unhandledListener;

    /**
     * Claims guest-physical {@code base .. base + length - 1} for {@code device}.
     *
     * @throws IllegalArgumentException if the base is negative, the length is not positive, the range
     *         wraps past {@code Long.MAX_VALUE}, or it overlaps a registered device (the message names
     *         both devices and their ranges)
     */
    public synchronized void register(long base, long length, MmioDevice device) {
        Objects.requireNonNull(device, "device");
        if (base < 0 || length <= 0 || base - 1 > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(String.format(
                    "cannot register %s at base 0x%x length 0x%x: invalid range", device.name(), base, length));
        }
        long last = base + length - 1;
        Table old = table;
        for (Registration r : old.registrations) {
            if (base <= r.last() && r.base() <= last) {
                throw new IllegalArgumentException(String.format(
                        "cannot register %s at 0x%x-0x%x: overlaps %s at 0x%x-0x%x",
                        device.name(), base, last, r.device().name(), r.base(), r.last()));
            }
        }
        List<Registration> regs = new ArrayList<>(old.registrations);
        regs.add(new Registration(base, length, device));
        regs.sort(Comparator.comparingLong(Registration::base));
        table = new Table(regs);
    }

    /**
     * Removes every range of {@code device} (a PCI BAR being moved or disabled); a no-op when it has
     * none. vCPUs still dispatching on the old table finish that access with the device.
     */
    public synchronized void unregister(MmioDevice device) {
        List<Registration> regs = new ArrayList<>(table.registrations);
        if (regs.removeIf(r -> r.device() == device)) {
            table = new Table(regs);
        }
    }

    /**
     * Reads {@code size} (1, 2, 4, 8) bytes at {@code address}.
     *
     * @return the device's value masked to the access size, or all ones of that size if nothing is
     *         mapped there
     * @throws IllegalArgumentException for another size
     */
    public long read(long address, int size) {
        long mask = sizeMask(size);
        Table t = table;
        int i = find(t, address);
        if (i >= 0) {
            return t.devices[i].read(address - t.bases[i], size) & mask;
        }
        UnhandledAccessListener l = unhandledListener;
        if (l != null) {
            l.unhandledAccess(false, address, size, mask);
        }
        return mask;
    }

    /**
     * Writes the low {@code 8 * size} bits of {@code value} at {@code address}; ignored (and reported
     * to the listener) when nothing is mapped there.
     *
     * @throws IllegalArgumentException for a size other than 1, 2, 4, 8
     */
    public void write(long address, int size, long value) {
        long mask = sizeMask(size);
        Table t = table;
        int i = find(t, address);
        if (i >= 0) {
            t.devices[i].write(address - t.bases[i], size, value & mask);
            return;
        }
        UnhandledAccessListener l = unhandledListener;
        if (l != null) {
            l.unhandledAccess(true, address, size, value & mask);
        }
    }

    /** The device whose range holds {@code address}, or {@code null}. */
    public MmioDevice deviceAt(long address) {
        Table t = table;
        int i = find(t, address);
        return i < 0 ? null : t.devices[i];
    }

    /** All registrations, sorted by base (an immutable snapshot). */
    public List<Registration> devices() {
        return table.registrations;
    }

    /** Sets (or with {@code null} removes) the listener told about unclaimed accesses. */
    public void setUnhandledAccessListener(UnhandledAccessListener listener) {
        this.unhandledListener = listener;
    }

    /** Index of the range holding {@code address}, or -1: the last base not above it, if it reaches. */
    private static int find(Table t, long address) {
        long[] bases = t.bases;
        int lo = 0;
        int hi = bases.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (bases[mid] <= address) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi >= 0 && address <= t.lasts[hi] ? hi : -1;
    }

    private static long sizeMask(int size) {
        return switch (size) {
            case 1 -> 0xffL;
            case 2 -> 0xffffL;
            case 4 -> 0xffff_ffffL;
            case 8 -> -1L;
            default -> throw new IllegalArgumentException("MMIO access size must be 1, 2, 4 or 8: " + size);
        };
    }
}
