package dev.jkvm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives the C baseline VMM ({@code benchmarks/target/bench-vmm}, from {@code src/main/c/bench-vmm.c})
 * one command per process; each command prints one line of {@code key=value} pairs.
 *
 * <pre>{@code
 * CBaseline c = new CBaseline(Path.of("benchmarks/target/bench-vmm"));
 * ExitRun r = c.exits(rom, BenchGuest.PORT_OUT, 100_000, false);
 * }</pre>
 */
public final class CBaseline {

    private final Path binary;
    private long tscKhz;

    public CBaseline(Path binary) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + ": the C baseline is not built (mvn -pl benchmarks -am package)");
        }
        this.binary = binary;
    }

    /** The guest's TSC rate KVM reported on the last exits run (KVM_GET_TSC_KHZ), or 0 before one. */
    public long tscKhz() {
        return tscKhz;
    }

    /** One run of bench-exits case {@code kase} with {@code n} iterations. */
    public ExitRun exits(Path rom, int kase, int n, boolean irqchip) {
        Map<String, Long> r = run("exits", rom.toString(), Integer.toString(kase), Integer.toString(n), irqchip ? "1" : "0");
        tscKhz = r.get("tsc_khz");
        return new ExitRun(n, r.get("cycles"), r.get("wall_ns"), r.get("exits"));
    }

    /** Nanoseconds per VM: create with {@code memory} bytes and one vCPU, run to HLT, destroy; {@code count} times. */
    public double lifecycleNanos(Path rom, int count, long memory) {
        Map<String, Long> r = run("lifecycle", rom.toString(), Integer.toString(count), Long.toString(memory));
        return (double) r.get("total_ns") / count;
    }

    /**
     * As {@link #lifecycleNanos}, by the C twin: every system call jkvm's smallest machine makes
     * (the CPUID read back, a vCPU thread with its signal mask and /proc times), none of its Java.
     */
    public double twinNanos(Path rom, int count, long memory) {
        return twinPhases(rom, count, memory).total();
    }

    /** {@link #twinNanos}, split as jkvm's phases are: create (with the CPUID read back), run (the thread), destroy. */
    public JkvmLifecycle.Phases twinPhases(Path rom, int count, long memory) {
        Map<String, Long> r = run("twin", rom.toString(), Integer.toString(count), Long.toString(memory));
        return new JkvmLifecycle.Phases((double) r.get("create_ns") / count, (double) r.get("run_ns") / count,
                (double) r.get("destroy_ns") / count);
    }

    /** Nanoseconds per VM with {@code vcpus} vCPUs and an in-kernel irqchip: create, destroy; {@code count} times. */
    public double vcpuNanos(Path rom, int vcpus, int count, long memory) {
        Map<String, Long> r = run("vcpus", rom.toString(), Integer.toString(vcpus), Integer.toString(count), Long.toString(memory));
        return (double) r.get("total_ns") / count;
    }

    /** Runs {@code command} with its output discarded: wall time, peak RSS and exit status. */
    public Spawned spawn(List<String> command) {
        List<String> args = new ArrayList<>();
        args.add("spawn");
        args.addAll(command);
        Map<String, Long> r = run(args.toArray(String[]::new));
        return new Spawned(r.get("wall_ns"), r.get("maxrss_kib"), r.get("status").intValue());
    }

    /** What {@link #spawn} measured. */
    public record Spawned(long wallNanos, long maxRssKib, int status) {
    }

    private Map<String, Long> run(String... args) {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            int status = p.waitFor();
            if (status != 0) {
                throw new IllegalStateException(String.join(" ", command) + ": exit status " + status + ": "
                        + new String(err, StandardCharsets.UTF_8).strip());
            }
            return parse(new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(binary + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** {@code a=1 b=2} into a map. */
    static Map<String, Long> parse(String line) {
        Map<String, Long> m = new HashMap<>();
        for (String token : line.strip().split("\\s+")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                m.put(token.substring(0, eq), Long.parseLong(token.substring(eq + 1)));
            }
        }
        return m;
    }
}
