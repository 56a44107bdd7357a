package dev.jkvm.vmm.trace;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One vCPU's trace records: a preallocated ring of fixed-size binary records with one producer
 * (the vCPU thread) and one consumer (the trace writer). {@link #put} allocates nothing, takes no
 * lock and never waits: when the writer has fallen a whole ring behind, the record is dropped and
 * counted.
 *
 * <p>A record is four longs: the first packs the kind, the KVM exit reason, flags and the access
 * size in its low 32 bits and the user-mode time (ns, clamped) in its high 32; then the guest span's
 * start, the exit's time (the span's end), and the port or MMIO address.
 *
 * <pre>{@code
 * ring.put(TraceRing.head(TraceRing.EXIT, KVM_EXIT_IO, TraceRing.FLAG_OUT, 1, 900), t0, t1, 0x99);
 * ring.drain(sink);   // on the writer's thread
 * }</pre>
 */
public final class TraceRing {

    /** An exit: guest span [start, exit], then user mode for the packed time. */
    public static final int EXIT = 1;
    /** KVM_RUN returned for a kick (signal or immediate_exit): guest span, then the requests served. */
    public static final int KICK = 2;
    /** The vCPU sat parked outside the guest (monitor stop, -S) from start to end. */
    public static final int PAUSE = 3;

    /** IO: an OUT; MMIO: a write. */
    public static final int FLAG_OUT = 1;

    /** Longs per record. */
    static final int WORDS = 4;

    private static final VarHandle HEAD;
    private static final VarHandle TAIL;
    private static final VarHandle DROPPED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(TraceRing.class, "head", long.class);
            TAIL = l.findVarHandle(TraceRing.class, "tail", long.class);
            DROPPED = l.findVarHandle(TraceRing.class, "dropped", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What the writer does with each record drained. */
    public interface Sink {
        void record(long head, long start, long exit, long address);
    }

    private final long[] slots;
    private final int mask;
    private final int capacity;
    /** Producer side: the next record's number; published with release so its words are seen first. */
    @SuppressWarnings("unused")
    private volatile long head;
    /** Producer's last look at the consumer's position (re-read only when the ring looks full). */
    private long tailSeen;
    /** Consumer side: records below this number are free again. */
    @SuppressWarnings("unused")
    private volatile long tail;
    @SuppressWarnings("unused")
    private volatile long dropped;

    /** @param capacity records, a power of two */
    public TraceRing(int capacity) {
        if (capacity < 2 || Integer.bitCount(capacity) != 1 || capacity > (1 << 26)) {
            throw new IllegalArgumentException("ring capacity must be a power of two up to 2^26: " + capacity);
        }
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.slots = new long[capacity * WORDS];
    }

    /** The first word of a record. */
    public static long head(int kind, int reason, int flags, int size, long userNanos) {
        long user = userNanos < 0 ? 0 : Math.min(userNanos, 0xffff_ffffL);
        return (kind & 0xf) | (reason & 0xff) << 4 | (flags & 0xf) << 12 | (long) (size & 0xffff) << 16 | user << 32;
    }

    public static int kind(long head) {
        return (int) (head & 0xf);
    }

    public static int reason(long head) {
        return (int) (head >>> 4) & 0xff;
    }

    public static int flags(long head) {
        return (int) (head >>> 12) & 0xf;
    }

    public static int size(long head) {
        return (int) (head >>> 16) & 0xffff;
    }

    public static long userNanos(long head) {
        return head >>> 32;
    }

    /** Appends a record, or drops and counts it when the ring is full. Producer thread only. */
    public void put(long head0, long start, long exit, long address) {
        long h = (long) HEAD.getOpaque(this);
        if (h - tailSeen >= capacity) {
            tailSeen = (long) TAIL.getAcquire(this);
            if (h - tailSeen >= capacity) {
                DROPPED.setOpaque(this, (long) DROPPED.getOpaque(this) + 1);
                return;
            }
        }
        int i = (int) (h & mask) * WORDS;
        slots[i] = head0;
        slots[i + 1] = start;
        slots[i + 2] = exit;
        slots[i + 3] = address;
        HEAD.setRelease(this, h + 1);
    }

    /** Hands every record published so far to {@code sink}, oldest first; returns how many. Consumer thread only. */
    public int drain(Sink sink) {
        long t = (long) TAIL.getOpaque(this);
        long h = (long) HEAD.getAcquire(this);
        for (long n = t; n < h; n++) {
            int i = (int) (n & mask) * WORDS;
            sink.record(slots[i], slots[i + 1], slots[i + 2], slots[i + 3]);
        }
        TAIL.setRelease(this, h);
        return (int) (h - t);
    }

    /** Records dropped because the ring was full. */
    public long dropped() {
        return (long) DROPPED.getOpaque(this);
    }

    /** Records the ring holds at most. */
    public int capacity() {
        return capacity;
    }
}
