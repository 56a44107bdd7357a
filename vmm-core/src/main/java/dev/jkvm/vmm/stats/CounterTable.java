package dev.jkvm.vmm.stats;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * A fixed-capacity count-and-time table keyed by a non-negative long (a port and direction, an
 * MMIO page), for the vCPU exit path: open addressing over preallocated arrays, so recording an
 * exit never allocates or locks. When the table is full, further keys are summed in an overflow
 * slot ({@link #OVERFLOW}) rather than lost.
 *
 * <p>One writer (the vCPU thread); readers on other threads see values that may lag by an exit,
 * which is all a live statistics display needs.
 *
 * <pre>{@code
 * CounterTable t = new CounterTable(256);
 * t.add(0x3f8, 1200);        // one exit to key 0x3f8 that took 1.2 us to handle
 * t.count(0x3f8);            // 1
 * }</pre>
 */
public final class CounterTable {

    /** The key under which entries beyond the capacity are summed. */
    public static final long OVERFLOW = Long.MAX_VALUE;

    private static final long EMPTY = -1;

    private final long[] keys;
    private final long[] counts;
    private final long[] nanos;
    private final int mask;
    private long overflowCount;
    private long overflowNanos;

    /** A table for up to {@code capacity} distinct keys (rounded up to a power of two, half-filled at most). */
    public CounterTable(int capacity) {
        int size = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1) * 2;
        keys = new long[size];
        counts = new long[size];
        nanos = new long[size];
        mask = size - 1;
        Arrays.fill(keys, EMPTY);
    }

    /** Counts one event of {@code key} that took {@code elapsedNanos}. */
    public void add(long key, long elapsedNanos) {
        int i = (int) mix(key) & mask;
        for (int probes = 0; probes <= mask / 2; probes++) {
            long k = keys[i];
            if (k == key) {
                counts[i]++;
                nanos[i] += elapsedNanos;
                return;
            }
            if (k == EMPTY) {
                counts[i] = 1;
                nanos[i] = elapsedNanos;
                keys[i] = key; // published last, so a reader never sees a key without its count
                return;
            }
            i = (i + 1) & mask;
        }
        overflowCount++;
        overflowNanos += elapsedNanos;
    }

    private static long mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 29);
    }

    /** How many events {@code key} had. */
    public long count(long key) {
        if (key == OVERFLOW) {
            return overflowCount;
        }
        int i = find(key);
        return i < 0 ? 0 : counts[i];
    }

    /** The total handling time of {@code key}'s events. */
    public long nanos(long key) {
        if (key == OVERFLOW) {
            return overflowNanos;
        }
        int i = find(key);
        return i < 0 ? 0 : nanos[i];
    }

    private int find(long key) {
        int i = (int) mix(key) & mask;
        for (int probes = 0; probes <= mask; probes++) {
            long k = keys[i];
            if (k == key) {
                return i;
            }
            if (k == EMPTY) {
                return -1;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** Calls {@code action} with every key that has events (then {@link #OVERFLOW} if it has any). */
    public void forEachKey(LongConsumer action) {
        for (long k : keys) {
            if (k != EMPTY) {
                action.accept(k);
            }
        }
        if (overflowCount > 0) {
            action.accept(OVERFLOW);
        }
    }
}
