package dev.jkvm.devices;

import java.util.ArrayList;
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
 * <p>KVM hands over accesses of any length 1-8: a guest store that crosses a page boundary into
 * MMIO arrives in pieces (a 4-byte store at {@code 0xa0ffd} is a 3-byte and a 1-byte exit). An access
 * of 1, 2, 4 or 8 bytes that lies within one device (or one unclaimed gap) goes through in one call;
 * any other is split as a bus splits it: into naturally aligned power-of-two pieces, none crossing
 * the edge of a range, each sent to whoever holds its bytes, and the read pieces put back together
 * little-endian. So a device only ever sees 1, 2, 4 or 8 bytes, all inside its range. Addresses
 * nobody claims read as all ones and swallow writes; the optional {@link UnhandledAccessListener}
 * hears of each such piece. (RAM never reaches this bus: KVM only exits for addresses without a
 * memory slot.)
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
        regs.sort((a, b) -> Long.compare(a.base(), b.base())); // not Comparator's lambda: spun at start-up, not cached
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
     * Reads {@code size} (1-8) bytes at {@code address}.
     *
     * @return the bytes little-endian in the low {@code 8 * size} bits; unclaimed bytes read as ones
     * @throws IllegalArgumentException for a size outside 1-8
     */
    public long read(long address, int size) {
        long mask = sizeMask(size);
        Table t = table;
        if (Long.bitCount(size) == 1 && fits(t, address, size)) {
            return readPiece(t, address, size) & mask;
        }
        long value = 0;
        for (int done = 0; done < size; ) {
            int piece = pieceSize(t, address + done, size - done);
            value |= (readPiece(t, address + done, piece) & sizeMask(piece)) << (8 * done);
            done += piece;
        }
        return value & mask;
    }

    /**
     * Writes the low {@code 8 * size} bits of {@code value} at {@code address}, little-endian;
     * unclaimed bytes are ignored (and reported to the listener).
     *
     * @throws IllegalArgumentException for a size outside 1-8
     */
    public void write(long address, int size, long value) {
        long mask = sizeMask(size);
        Table t = table;
        if (Long.bitCount(size) == 1 && fits(t, address, size)) {
            writePiece(t, address, size, value & mask);
            return;
        }
        for (int done = 0; done < size; ) {
            int piece = pieceSize(t, address + done, size - done);
            writePiece(t, address + done, piece, (value >>> (8 * done)) & sizeMask(piece));
            done += piece;
        }
    }

    /** One access of 1, 2, 4 or 8 bytes that {@link #fits} one range or one gap. */
    private long readPiece(Table t, long address, int size) {
        int i = find(t, address);
        if (i >= 0) {
            return t.devices[i].read(address - t.bases[i], size);
        }
        long ones = sizeMask(size);
        UnhandledAccessListener l = unhandledListener;
        if (l != null) {
            l.unhandledAccess(false, address, size, ones);
        }
        return ones;
    }

    private void writePiece(Table t, long address, int size, long value) {
        int i = find(t, address);
        if (i >= 0) {
            t.devices[i].write(address - t.bases[i], size, value);
            return;
        }
        UnhandledAccessListener l = unhandledListener;
        if (l != null) {
            l.unhandledAccess(true, address, size, value);
        }
    }

    /**
     * The next piece of a split access at {@code address} with {@code left} bytes to go: the largest
     * power of two that is at most {@code left}, aligned at {@code address}, and inside one segment.
     */
    private static int pieceSize(Table t, long address, int left) {
        int piece = Integer.highestOneBit(left);
        while (piece > 1 && ((address & (piece - 1)) != 0 || !fits(t, address, piece))) {
            piece >>>= 1;
        }
        return piece;
    }

    /** Whether {@code address .. address + size - 1} lies in one range, or in one unclaimed gap. */
    private static boolean fits(Table t, long address, int size) {
        long[] bases = t.bases;
        int hi = lastBaseAtOrBelow(bases, address);
        long end = address + size - 1;
        if (hi >= 0 && address <= t.lasts[hi]) {
            return end <= t.lasts[hi] && end >= address;
        }
        return hi + 1 >= bases.length || end < bases[hi + 1];
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
        int hi = lastBaseAtOrBelow(t.bases, address);
        return hi >= 0 && address <= t.lasts[hi] ? hi : -1;
    }

    /** Index of the last base not above {@code address}, or -1 (binary search). */
    private static int lastBaseAtOrBelow(long[] bases, long address) {
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
        return hi;
    }

    private static long sizeMask(int size) {
        if (size < 1 || size > 8) {
            throw new IllegalArgumentException("MMIO access size must be 1 to 8: " + size);
        }
        return size == 8 ? -1L : (1L << (8 * size)) - 1;
    }
}
