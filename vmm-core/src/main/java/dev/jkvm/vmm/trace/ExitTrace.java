package dev.jkvm.vmm.trace;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.KvmStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The machine's exit trace ({@code -exit-trace}, the monitor's {@code trace-file}): whether the
 * vCPUs record, into which rings, and the writer thread and file those rings drain to. Off, it
 * costs the vCPUs one load per exit; on, each vCPU fills its own preallocated ring and the writer
 * turns the records into Chrome trace events (see {@link TraceWriter}).
 *
 * <pre>{@code
 * ExitTrace t = new ExitTrace(Optional.of(TraceSpec.parse("exits.json")), "jkvm: hello", List.of("CPU 0/KVM"),
 *         ports, mmio, log);
 * t.attach(rings -> vcpu.traceInto(rings == null ? null : rings[0]), counters);
 * t.start();
 * ...
 * t.end("the guest halted");
 * }</pre>
 *
 * <p>Lock order: this object, then whatever the router takes (it sets the vCPUs' ring fields and
 * may ask a vCPU thread to open its statistics).
 */
public final class ExitTrace {

    /** How long {@code trace-file flush} waits for the writer. */
    private static final long FLUSH_MILLIS = 10_000;

    private final String processName;
    private final List<String> trackNames;
    private final PortBus ports;
    private final MmioBus mmio;
    private final Consumer<String> log;
    private TraceSpec spec;
    private TraceWriter writer;
    private TraceRing[] rings;
    /** Volatile: the writer thread reads it to sample KVM's counters only while the trace is on. */
    private volatile boolean enabled;
    private boolean ended;
    private Consumer<TraceRing[]> router = r -> { };
    /** Read by the writer thread without this object's lock (which end() holds while it waits for the writer). */
    private volatile CounterSource counters = CounterSource.NONE;
    private TraceSummary last;

    /**
     * @param configured the {@code -exit-trace} option, if given (then {@link #start()} turns it on)
     * @param processName the process name the trace shows ({@code jkvm: <guest>})
     * @param trackNames the vCPU thread names, by index
     */
    public ExitTrace(Optional<TraceSpec> configured, String processName, List<String> trackNames, PortBus ports,
                     MmioBus mmio, Consumer<String> log) {
        this.spec = configured.orElse(null);
        this.processName = processName;
        this.trackNames = List.copyOf(trackNames);
        this.ports = ports;
        this.mmio = mmio;
        this.log = log;
    }

    /**
     * The vCPUs of a new power-on: {@code router} points each at its ring (or at none with null),
     * {@code counters} reads their KVM statistics. Applied at once to the current state.
     */
    public synchronized void attach(Consumer<TraceRing[]> router, CounterSource counters) {
        this.router = router;
        this.counters = counters;
        if (enabled) {
            router.accept(rings);
        }
    }

    /** Turns {@code -exit-trace} on before the guest runs. */
    public synchronized void start() throws IOException {
        if (spec != null && !enabled) {
            on();
        }
    }

    /** Whether the vCPUs record now. */
    public synchronized boolean enabled() {
        return enabled;
    }

    /** The file the trace goes (or would go) to, if any. */
    public synchronized Optional<Path> file() {
        return Optional.ofNullable(spec).map(TraceSpec::path);
    }

    /** A marker on every track (resets, the guest's end, the monitor's stop and cont); dropped while no file is open. */
    public synchronized void marker(String name) {
        if (writer != null) {
            writer.marker(-1, name);
        }
    }

    /** What the last file held once it was finished, if one was. */
    public synchronized Optional<TraceSummary> lastSummary() {
        return Optional.ofNullable(last);
    }

    /**
     * The guest's end: a marker saying why, the recording stopped and the file finished. The vCPU
     * threads must have ended. Returns what the file holds; idempotent.
     */
    public synchronized Optional<TraceSummary> end(String why) {
        if (ended) {
            return Optional.ofNullable(last);
        }
        ended = true;
        enabled = false;
        router.accept(null);
        if (writer != null) {
            writer.marker(-1, "guest end: " + why);
            closeWriter();
        }
        return Optional.ofNullable(last);
    }

    /**
     * The monitor's {@code trace-file [on|off|flush|set FILE]}, with QEMU's words; returns what it prints.
     */
    public synchronized String command(String[] args) {
        if (ended) {
            return "Error: the guest has ended" + (last != null ? "; the trace is in " + last.path() : "") + "\n";
        }
        if (args.length == 0) {
            return spec == null ? "Trace file not set (trace-file set FILE, or -exit-trace FILE)\n"
                    : "Trace file \"" + spec.path() + "\" " + (enabled ? "on" : "off") + ".\n";
        }
        try {
            switch (args[0]) {
                case "on" -> {
                    if (args.length > 1) {
                        return "Error: trace-file on takes no file (trace-file set FILE first)\n";
                    }
                    if (spec == null) {
                        spec = TraceSpec.of(Path.of("trace-" + ProcessHandle.current().pid() + ".json"));
                    }
                    on();
                    return "";
                }
                case "off" -> {
                    off();
                    return "";
                }
                case "flush" -> {
                    if (writer == null) {
                        return "";
                    }
                    return writer.flush(FLUSH_MILLIS) ? "" : "Error: the trace writer did not answer\n";
                }
                case "set" -> {
                    if (args.length != 2) {
                        return "Error: trace-file set FILE\n";
                    }
                    TraceSpec next = TraceSpec.parse(args[1]);
                    boolean wasOn = enabled;
                    off();
                    if (writer != null) {
                        closeWriter();
                    }
                    spec = next;
                    if (wasOn) {
                        on();
                    }
                    return "";
                }
                default -> {
                    return "Error: trace-file on|off|flush|set FILE\n";
                }
            }
        } catch (IOException e) {
            return "Error: " + spec.path() + ": " + e.getMessage() + "\n";
        } catch (IllegalArgumentException | IllegalStateException e) {
            return "Error: " + e.getMessage() + "\n";
        }
    }

    /** Ends the trace if the guest's end did not (a machine closed before or without running). */
    public void close() {
        end("the machine was closed");
    }

    private void on() throws IOException {
        if (writer == null) {
            TraceRing[] fresh = new TraceRing[trackNames.size()];
            int capacity = ringCapacity(fresh.length);
            for (int i = 0; i < fresh.length; i++) {
                fresh[i] = new TraceRing(capacity);
            }
            writer = new TraceWriter(spec, processName, trackNames, fresh, ports, mmio, this::sample, log);
            rings = fresh;
            writer.start();
        } else {
            writer.marker(-1, "trace-file on");
        }
        enabled = true;
        router.accept(rings);
    }

    private void off() {
        if (!enabled) {
            return;
        }
        enabled = false;
        router.accept(null);
        writer.marker(-1, "trace-file off");
    }

    private void closeWriter() {
        TraceWriter w = writer;
        writer = null;
        rings = null;
        try {
            last = w.finish();
        } catch (RuntimeException e) {
            log.accept("jkvm: -exit-trace " + w.spec().path() + ": " + e.getMessage());
            last = w.summary();
        }
        if (last.dropped() > 0) {
            log.accept(String.format("jkvm: -exit-trace %s: %,d records dropped: the writer fell a whole ring behind the vCPUs"
                    + " (each drop is marked in the trace)", last.path(), last.dropped()));
        }
    }

    /** The writer's view of the counters: whatever the current power-on's vCPUs have. */
    private boolean sample(int vcpu, Consumer<KvmStats> reader) {
        return enabled && counters.read(vcpu, reader);
    }

    /** 2 MiB per vCPU up to 8 vCPUs, less per vCPU beyond (a record is 32 bytes). */
    static int ringCapacity(int vcpus) {
        return vcpus <= 8 ? 1 << 16 : vcpus <= 64 ? 1 << 14 : 1 << 12;
    }
}
