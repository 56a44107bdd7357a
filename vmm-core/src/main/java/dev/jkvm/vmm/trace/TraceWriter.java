package dev.jkvm.vmm.trace;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.MmioDevice;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.PortIoDevice;
import dev.jkvm.kvm.KvmStats;
import dev.jkvm.kvm.abi.KvmConstants;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The thread that turns the vCPUs' {@link TraceRing}s into Chrome trace events in one file: it
 * drains the rings, names each exit (reason, port or MMIO page, the device that handled it),
 * samples KVM's counters of each vCPU every millisecond while the guest runs, and stops writing at
 * the event limit. Only this thread touches the file once it started; other threads ask it to
 * flush or finish and post markers through a bounded queue.
 */
final class TraceWriter implements Runnable {

    /** How often KVM's counters are sampled (while anything changes). */
    private static final long SAMPLE_NANOS = 1_000_000;
    /** How long the writer sleeps when every ring was empty. */
    private static final long IDLE_NANOS = 250_000;
    /** Markers waiting for the writer, at most (a guest resetting in a loop must not grow the queue). */
    private static final int MAX_PENDING_MARKERS = 4096;
    /** Names and args cached per port or MMIO page, at most. */
    private static final int MAX_NAMES = 8192;

    /** A marker posted from another thread. */
    private record Marker(long nanos, int track, String name) {
    }

    private final TraceSpec spec;
    private final TraceFile file;
    private final TraceRing[] rings;
    private final PortBus ports;
    private final MmioBus mmio;
    private final CounterSource counters;
    private final Consumer<String> log;
    private final long origin;
    private final String tailHead;
    private final String tailEnd;
    private final long pid;
    private final byte[][] trackPrefix;
    private final byte[][] counterPrefix;
    private final String[][] counterNames;
    private final long[][] counterValues;
    private final boolean[] counterSampled;
    private final long[] droppedSeen;
    private final Map<Long, byte[][]> names = new HashMap<>();
    private final ConcurrentLinkedQueue<Marker> markers = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pendingMarkers = new AtomicInteger();
    private final Object lock = new Object();
    private final Thread thread;
    private final TraceRing.Sink[] sinks;
    private long flushRequested;
    private long flushDone;
    private volatile boolean finishing;
    private boolean cut;
    private long recordsNotWritten;
    private long exitsWritten;
    private long lastSample;
    private volatile RuntimeException failure;

    /**
     * Opens the file and writes its head; {@link #start()} starts the thread.
     *
     * @param trackNames the vCPU thread names, by index
     * @param rings the vCPUs' rings, by index
     */
    TraceWriter(TraceSpec spec, String processName, List<String> trackNames, TraceRing[] rings, PortBus ports,
                MmioBus mmio, CounterSource counters, Consumer<String> log) throws IOException {
        this.spec = spec;
        this.rings = rings.clone();
        this.ports = ports;
        this.mmio = mmio;
        this.counters = counters;
        this.log = log;
        this.origin = System.nanoTime();
        this.pid = ProcessHandle.current().pid();
        int n = rings.length;
        trackPrefix = new byte[n][];
        counterPrefix = new byte[n][];
        counterNames = new String[n][];
        counterValues = new long[n][];
        counterSampled = new boolean[n];
        droppedSeen = new long[n];
        sinks = new TraceRing.Sink[n];
        for (int i = 0; i < n; i++) {
            trackPrefix[i] = (",\"pid\":" + pid + ",\"tid\":" + (i + 1) + ",\"ts\":").getBytes(StandardCharsets.US_ASCII);
            counterPrefix[i] = ("{\"ph\":\"C\",\"name\":" + new String(TraceFile.quote(trackNames.get(i) + " (KVM stats)"),
                    StandardCharsets.UTF_8) + ",\"pid\":" + pid + ",\"tid\":" + (i + 1) + ",\"ts\":").getBytes(StandardCharsets.UTF_8);
            int track = i;
            sinks[i] = (head, start, exit, address) -> record(track, head, start, exit, address);
        }
        String[] frame = spec.html() ? TimelinePage.frame() : new String[] {"", ""};
        this.tailHead = "\n],\"displayTimeUnit\":\"ns\",\"otherData\":";
        this.tailEnd = "}\n" + frame[1];
        file = TraceFile.create(spec.path(), frame[0] + "{\"traceEvents\":[\n", () -> tailHead + otherData() + tailEnd, 1 << 20);
        file.beginEvent().ascii("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":").number(pid)
                .ascii(",\"tid\":0,\"args\":{\"name\":").string(processName).ascii("}}");
        for (int i = 0; i < n; i++) {
            file.beginEvent().ascii("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":").number(pid).ascii(",\"tid\":")
                    .number(i + 1).ascii(",\"args\":{\"name\":").string(trackNames.get(i)).ascii("}}");
            file.beginEvent().ascii("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":").number(pid).ascii(",\"tid\":")
                    .number(i + 1).ascii(",\"args\":{\"sort_index\":").number(i).ascii("}}");
        }
        thread = Thread.ofPlatform().name("jkvm trace writer").daemon(true).unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** The file. */
    TraceSpec spec() {
        return spec;
    }

    /** A marker on track {@code track} (a vCPU index), or on every track when -1; from any thread. */
    void marker(int track, String name) {
        if (pendingMarkers.incrementAndGet() > MAX_PENDING_MARKERS) {
            pendingMarkers.decrementAndGet();
            return;
        }
        markers.add(new Marker(System.nanoTime(), track, name));
        LockSupport.unpark(thread);
    }

    /** Writes everything recorded so far to the file, which is then a complete trace; waits up to {@code millis}. */
    boolean flush(long millis) {
        long ticket;
        synchronized (lock) {
            ticket = ++flushRequested;
        }
        LockSupport.unpark(thread);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (lock) {
            while (flushDone < ticket && thread.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return flushDone >= ticket;
    }

    /**
     * Drains the rings one last time, writes the tail and closes the file; the producers must have
     * stopped. Returns what was written.
     */
    TraceSummary finish() {
        finishing = true;
        LockSupport.unpark(thread);
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            throw failure;
        }
        return summary();
    }

    TraceSummary summary() {
        long dropped = 0;
        for (TraceRing r : rings) {
            dropped += r.dropped();
        }
        return new TraceSummary(spec.path(), file.events(), file.size(), exitsWritten, dropped, cut, recordsNotWritten);
    }

    @Override
    public void run() {
        try {
            while (!finishing) {
                int n = drainAll();
                long now = System.nanoTime();
                if (now - lastSample >= SAMPLE_NANOS) {
                    sampleAll(now);
                    lastSample = now;
                }
                serveFlush();
                if (n == 0 && markers.isEmpty()) {
                    LockSupport.parkNanos(IDLE_NANOS);
                }
            }
            drainAll();
            sampleAll(System.nanoTime());
            file.finish();
        } catch (RuntimeException e) {
            failure = e instanceof UncheckedIOException u
                    ? new IllegalStateException("-exit-trace " + spec.path() + ": " + u.getCause().getMessage(), e) : e;
            file.close();
            log.accept("jkvm: -exit-trace " + spec.path() + ": writing failed, the trace stops: " + failure.getMessage());
            for (TraceRing r : rings) {
                r.drain((h, s, x, a) -> { }); // keep the vCPUs' rings moving: nothing waits on them, but stay tidy
            }
        } finally {
            synchronized (lock) {
                flushDone = flushRequested;
                lock.notifyAll();
            }
        }
    }

    private void serveFlush() {
        long ticket;
        synchronized (lock) {
            ticket = flushRequested;
        }
        if (ticket == flushDone) {
            return;
        }
        drainAll(); // what was published before the request: the loop's drain may have run before it
        sampleAll(System.nanoTime());
        file.checkpoint();
        synchronized (lock) {
            flushDone = ticket;
            lock.notifyAll();
        }
    }

    private String otherData() {
        TraceSummary s = summary();
        return String.format(Locale.ROOT, "{\"writer\":\"jkvm -exit-trace\",\"clock\":\"CLOCK_MONOTONIC\",\"origin_ns\":%d,"
                + "\"limit\":%d,\"cut\":%b,\"records_not_written\":%d,\"records_dropped\":%d,\"exits\":%d}",
                origin, spec.limit(), s.cut(), s.recordsNotWritten(), s.dropped(), s.exits());
    }

    private int drainAll() {
        int n = 0;
        Marker m;
        while ((m = markers.poll()) != null) {
            pendingMarkers.decrementAndGet();
            writeMarker(m);
        }
        for (int i = 0; i < rings.length; i++) {
            n += rings[i].drain(sinks[i]);
            long d = rings[i].dropped();
            if (d != droppedSeen[i]) {
                if (room()) {
                    file.beginEvent().ascii("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"marker\",\"name\":\"dropped ")
                            .number(d - droppedSeen[i]).ascii(" records (the trace writer fell behind)\"")
                            .bytes(trackPrefix[i]).micros(System.nanoTime() - origin).ascii(",\"args\":{\"dropped_total\":")
                            .number(d).ascii("}}");
                }
                droppedSeen[i] = d;
            }
        }
        return n;
    }

    private void writeMarker(Marker m) {
        if (!room()) {
            return;
        }
        if (m.track() < 0) {
            file.beginEvent().ascii("{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"marker\",\"name\":").string(m.name())
                    .ascii(",\"pid\":").number(pid).ascii(",\"tid\":0,\"ts\":")
                    .micros(m.nanos() - origin).ascii("}");
        } else {
            file.beginEvent().ascii("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"marker\",\"name\":").string(m.name())
                    .bytes(trackPrefix[m.track()]).micros(m.nanos() - origin).ascii("}");
        }
    }

    /** Whether another event fits under the limit; the first time it does not, the cut is marked and said. */
    private boolean room() {
        if (cut) {
            return false;
        }
        if (file.events() < spec.limit()) {
            return true;
        }
        cut = true;
        long at = System.nanoTime() - origin;
        file.beginEvent().ascii("{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"marker\",\"name\":\"trace cut: limit of ")
                .number(spec.limit()).ascii(" events reached\",\"pid\":").number(pid)
                .ascii(",\"tid\":0,\"ts\":").micros(at).ascii("}");
        log.accept(String.format(Locale.ROOT, "jkvm: -exit-trace %s: cut at the limit of %,d events, %.3f s into the trace"
                + " (the rest of the run is not in it; -exit-trace FILE,limit=N raises the limit)", spec.path(), spec.limit(), at / 1e9));
        return false;
    }

    /** One record's events (each under the limit on its own); a record that does not fit whole counts as not written. */
    private void record(int track, long head, long start, long exit, long address) {
        if (!room()) {
            recordsNotWritten++;
            return;
        }
        byte[] prefix = trackPrefix[track];
        long s = Math.max(start, origin);
        int kind = TraceRing.kind(head);
        if (kind == TraceRing.PAUSE) {
            file.beginEvent().ascii("{\"ph\":\"X\",\"cat\":\"pause\",\"name\":\"paused\"").bytes(prefix)
                    .micros(s - origin).ascii(",\"dur\":").micros(Math.max(0, exit - s)).ascii("}");
            return;
        }
        if (exit > s) {
            file.beginEvent().ascii("{\"ph\":\"X\",\"cat\":\"guest\",\"name\":\"KVM_RUN\"").bytes(prefix)
                    .micros(s - origin).ascii(",\"dur\":").micros(exit - s).ascii("}");
            if (!room()) {
                recordsNotWritten++;
                return;
            }
        }
        if (kind == TraceRing.KICK) {
            file.beginEvent().ascii("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"marker\",\"name\":\"kick\"").bytes(prefix)
                    .micros(exit - origin).ascii("}");
            return;
        }
        exitsWritten++;
        byte[][] na = nameAndArgs(TraceRing.reason(head), TraceRing.flags(head), TraceRing.size(head), address);
        file.beginEvent().ascii("{\"ph\":\"X\",\"cat\":\"user\",\"name\":").bytes(na[0]).bytes(prefix).micros(exit - origin)
                .ascii(",\"dur\":").micros(TraceRing.userNanos(head)).ascii(",\"args\":").bytes(na[1]);
        int reason = TraceRing.reason(head);
        if (reason == KvmConstants.KVM_EXIT_IO && address >>> 16 > 1) {
            file.ascii(",\"count\":").number(address >>> 16);
        } else if (reason == KvmConstants.KVM_EXIT_MMIO) {
            file.ascii(",\"address\":\"").hex(address).ascii("\"");
        }
        file.ascii("}}");
    }

    /** The span's name and the start of its args (without the closing brace), cached per port or page. */
    private byte[][] nameAndArgs(int reason, int flags, int size, long address) {
        long where = switch (reason) {
            case KvmConstants.KVM_EXIT_IO -> address & 0xffff;
            case KvmConstants.KVM_EXIT_MMIO -> address >>> 12;
            default -> 0;
        };
        long key = (long) reason << 56 | (long) flags << 52 | (long) size << 44 | where;
        byte[][] cached = names.get(key);
        if (cached != null) {
            return cached;
        }
        boolean out = (flags & TraceRing.FLAG_OUT) != 0;
        String name;
        String device;
        switch (reason) {
            case KvmConstants.KVM_EXIT_IO -> {
                int port = (int) where;
                name = String.format(Locale.ROOT, "IO %s 0x%x", out ? "out" : "in", port);
                PortIoDevice d = ports.deviceAt(port);
                device = d == null ? "none (unclaimed port)" : d.name();
            }
            case KvmConstants.KVM_EXIT_MMIO -> {
                long page = where << 12;
                name = String.format(Locale.ROOT, "MMIO %s 0x%x", out ? "write" : "read", page);
                MmioDevice d = mmio.deviceAt(address);
                device = d == null ? "none (unclaimed page)" : d.name();
            }
            default -> {
                String full = KvmConstants.exitReasonName(reason);
                name = full.startsWith("KVM_EXIT_") ? full.substring(9) : full;
                device = "jkvm";
            }
        }
        StringBuilder args = new StringBuilder("{\"device\":").append(new String(TraceFile.quote(device), StandardCharsets.UTF_8));
        if (reason == KvmConstants.KVM_EXIT_IO || reason == KvmConstants.KVM_EXIT_MMIO) {
            args.append(",\"size\":").append(size);
        }
        byte[][] na = {TraceFile.quote(name), args.toString().getBytes(StandardCharsets.UTF_8)};
        if (names.size() < MAX_NAMES) {
            names.put(key, na);
        }
        return na;
    }

    private void sampleAll(long now) {
        for (int i = 0; i < rings.length; i++) {
            int track = i;
            counters.read(i, stats -> sample(track, stats, now));
        }
    }

    /** One counter event with every tracked KVM counter of vCPU {@code track}, when any moved. */
    private void sample(int track, KvmStats stats, long now) {
        if (counterNames[track] == null) {
            counterNames[track] = trackedCounters(stats);
            counterValues[track] = new long[counterNames[track].length];
        }
        String[] names = counterNames[track];
        long[] last = counterValues[track];
        boolean first = !counterSampled[track];
        long changed = 0; // bit k: counter k moved since the last sample (the first sample: is not zero)
        for (int k = 0; k < names.length; k++) {
            long v = stats.value(names[k]);
            if (v != last[k] || first && k == 0) {
                changed |= 1L << k;
                last[k] = v;
            }
        }
        if (changed == 0 || !room()) {
            return;
        }
        counterSampled[track] = true;
        file.beginEvent().bytes(counterPrefix[track]).micros(now - origin).ascii(",\"args\":{");
        boolean comma = false;
        for (int k = 0; k < names.length; k++) {
            if ((changed & 1L << k) != 0) {
                file.ascii(comma ? ",\"" : "\"").ascii(names[k]).ascii("\":").number(last[k]);
                comma = true;
            }
        }
        file.ascii("}}");
    }

    /**
     * KVM's per-exit-reason counters and what the kernel did for the guest: {@code exits}, every
     * {@code *_exits}, instruction emulation, hypercalls, injected interrupts and the shadow page
     * faults (single cumulative values only).
     */
    static String[] trackedCounters(KvmStats stats) {
        List<String> out = new ArrayList<>();
        if (stats.value("exits") >= 0) {
            out.add("exits"); // first, so the first sample always has it
        }
        for (KvmStats.Descriptor d : stats.descriptors()) {
            String n = d.name();
            boolean wanted = n.endsWith("_exits") || n.startsWith("insn_emulation")
                    || n.equals("hypercalls") || n.equals("irq_injections") || n.equals("nmi_injections")
                    || n.equals("pf_taken") || n.equals("pf_fixed") || n.equals("pf_emulate") || n.equals("halt_wakeup");
            if (wanted && out.size() < 64 && d.size() == 1 && d.type() == KvmConstants.KVM_STATS_TYPE_CUMULATIVE && n.matches("[a-z0-9_]+")) {
                out.add(n);
            }
        }
        return out.toArray(String[]::new);
    }
}
