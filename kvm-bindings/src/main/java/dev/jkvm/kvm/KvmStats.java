package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmStatsDesc;
import dev.jkvm.kvm.abi.KvmStatsHeader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * KVM's binary statistics of one VM or vCPU ({@code KVM_GET_STATS_FD}): the counters KVM keeps
 * itself, such as {@code exits}, {@code io_exits} or {@code halt_exits}, including the exits it
 * handled in the kernel without ever returning to jkvm.
 *
 * <pre>{@code
 * try (KvmStats stats = vcpu.stats()) {
 *     long exits = stats.read().get("exits");
 * }
 * }</pre>
 *
 * <p>The descriptors are read once; {@link #refresh()} re-reads only the data block, with one
 * {@code pread} into a buffer allocated at open, so a periodic reader allocates nothing.
 */
public final class KvmStats implements AutoCloseable {

    /** One counter: its name, where its value sits in the data block, and KVM's flags for it. */
    public record Descriptor(String name, int offset, int size, int flags, int exponent) {

        /** {@code KVM_STATS_TYPE_*}: cumulative, instant, peak, histograms. */
        public int type() {
            return flags & KvmConstants.KVM_STATS_TYPE_MASK;
        }

        /** {@code KVM_STATS_UNIT_*}: none, bytes, seconds, cycles, boolean. */
        public int unit() {
            return flags & KvmConstants.KVM_STATS_UNIT_MASK;
        }
    }

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final List<Descriptor> descriptors;
    private final Map<String, Descriptor> byName;
    private final MemorySegment data;
    private final long dataOffset;
    private final MemorySegment capture;

    /** Takes ownership of a stats descriptor returned by {@code KVM_GET_STATS_FD}. */
    KvmStats(int fd) {
        this.fd = fd;
        try {
            capture = Libc.newErrnoCapture(arena);
            MemorySegment header = arena.allocate(KvmStatsHeader.SIZEOF, 8);
            Libc.pread(capture, fd, header, 0);
            int nameSize = header.get(JAVA_INT, KvmStatsHeader.NAME_SIZE);
            int count = header.get(JAVA_INT, KvmStatsHeader.NUM_DESC);
            long descOffset = Integer.toUnsignedLong(header.get(JAVA_INT, KvmStatsHeader.DESC_OFFSET));
            dataOffset = Integer.toUnsignedLong(header.get(JAVA_INT, KvmStatsHeader.DATA_OFFSET));
            long descSize = KvmStatsDesc.SIZEOF + nameSize;
            MemorySegment descs = arena.allocate(descSize * count, 8);
            Libc.pread(capture, fd, descs, descOffset);
            List<Descriptor> list = new ArrayList<>(count);
            Map<String, Descriptor> names = new LinkedHashMap<>();
            long end = 0;
            for (int i = 0; i < count; i++) {
                MemorySegment d = descs.asSlice(i * descSize, descSize);
                String name = cString(d.asSlice(KvmStatsDesc.NAME, nameSize));
                Descriptor desc = new Descriptor(name, d.get(JAVA_INT, KvmStatsDesc.OFFSET),
                        Short.toUnsignedInt(d.get(JAVA_SHORT, KvmStatsDesc.SIZE)), d.get(JAVA_INT, KvmStatsDesc.FLAGS),
                        d.get(JAVA_SHORT, KvmStatsDesc.EXPONENT));
                list.add(desc);
                names.put(name, desc);
                end = Math.max(end, desc.offset() + 8L * desc.size());
            }
            descriptors = Collections.unmodifiableList(list);
            byName = Collections.unmodifiableMap(names);
            data = arena.allocate(Math.max(end, 8), 8);
            refresh();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static String cString(MemorySegment s) {
        int n = 0;
        while (n < s.byteSize() && s.get(JAVA_BYTE, n) != 0) {
            n++;
        }
        return new String(s.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    /** Every counter KVM offers, in its order. */
    public List<Descriptor> descriptors() {
        return descriptors;
    }

    /** {@code EBADF}: what a read after {@link #close()} reports, as the closed descriptor would. */
    private static final int EBADF = 9;

    /** Set by close: its memory is gone then. Read and written holding this object's monitor. */
    private boolean closed;

    /**
     * Re-reads the values (one {@code pread}); allocates nothing. Not thread-safe: readers hold this
     * object's monitor around it and the values they read, as {@link #close()} does.
     *
     * @throws KvmException also once closed (EBADF), so a reader that raced with the close stops
     */
    public void refresh() {
        if (closed) {
            throw new KvmException("pread(KVM stats)", EBADF);
        }
        Libc.pread(capture, fd, data, dataOffset);
    }

    /** The first (for histograms: bucket 0) value of {@code name} as of the last {@link #refresh}, or -1 if KVM has no such counter. */
    public long value(String name) {
        Descriptor d = byName.get(name);
        return d == null ? -1 : data.get(JAVA_LONG, d.offset());
    }

    /** Every value of {@code d} (one, or a histogram's buckets) as of the last {@link #refresh}. */
    public long[] values(Descriptor d) {
        long[] out = new long[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(JAVA_LONG, d.offset() + 8L * i);
        }
        return out;
    }

    /** Refreshes and returns every single-valued counter by name. */
    public Map<String, Long> read() {
        refresh();
        Map<String, Long> values = new LinkedHashMap<>();
        for (Descriptor d : descriptors) {
            if (d.size() == 1) {
                values.put(d.name(), data.get(JAVA_LONG, d.offset()));
            }
        }
        return values;
    }

    /**
     * Closes the descriptor and frees the memory, once. Synchronized: a reader on another thread
     * (the monitor's {@code info exits}, QMP's {@code query-stats}, the exit trace's sampler) holds
     * this monitor through its read, and freeing the memory under its {@code pread} failed the
     * close with "Session is acquired by 1 clients" (seen in SoakTest under load).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc.close(fd);
        arena.close();
    }
}
