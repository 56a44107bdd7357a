package dev.jkvm.bench;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import dev.jkvm.vmm.host.ThreadTimes;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.trace.TraceSpec;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import dev.jkvm.bench.report.Samples;

/**
 * The jkvm side of the exit cases: bench-exits.rom on a {@link Machine} built through the public
 * embedding API, 2 MiB of RAM, one vCPU, with or without the in-kernel irqchip (without it is
 * {@code -machine kernel-irqchip=off}, the cheapest machine, comparable to the C baseline).
 *
 * <pre>{@code
 * ExitRun r = JkvmExits.run(rom, BenchGuest.PORT_OUT, 100_000, false);
 * }</pre>
 */
public final class JkvmExits {

    static final long MEMORY = 2 * MemoryMap.MIB;
    static final Duration RUN_LIMIT = Duration.ofMinutes(5);
    /** QEMU's name for the first vCPU's thread, which jkvm uses too. */
    static final String VCPU0_THREAD = "CPU 0/KVM";

    private JkvmExits() {
    }

    static MachineConfig config(Path rom, boolean irqchip) {
        return MachineConfig.builder().firmware(BiosRom.file(rom)).serial(SerialBackend.none()).memory(MEMORY)
                .cpus(1).irqchip(irqchip).build();
    }

    /** The same machine with {@code -exit-trace trace} (null: none). */
    static MachineConfig config(Path rom, boolean irqchip, Path trace) {
        MachineConfig c = config(rom, irqchip);
        return trace == null ? c : c.toBuilder().exitTrace(TraceSpec.of(trace)).build();
    }

    /** Writes the case and N where the guest reads them. */
    static void setUp(Machine m, int kase, int n) {
        m.writePhysical(BenchGuest.PARAM_CASE, BenchGuest.le32(kase));
        m.writePhysical(BenchGuest.PARAM_N, BenchGuest.le32(n));
    }

    /** One run of case {@code kase} with {@code n} iterations. */
    public static ExitRun run(Path rom, int kase, int n, boolean irqchip) {
        return run(rom, kase, n, irqchip, null);
    }

    /** One run with every exit traced to {@code trace} (null: tracing off). */
    public static ExitRun run(Path rom, int kase, int n, boolean irqchip, Path trace) {
        try (Machine m = Machine.create(config(rom, irqchip, trace))) {
            setUp(m, kase, n);
            long t0 = System.nanoTime();
            RunResult r = m.run(RUN_LIMIT);
            long t1 = System.nanoTime();
            return finish(m, r, kase, n, t1 - t0);
        }
    }

    /**
     * One run, with every exit traced to {@code trace} (null: off): the guest's microseconds per
     * iteration, and the CPU time the host charged the vCPU thread (user + system, guest time
     * included) per exit, which waiting for a CPU on a busy host does not inflate.
     */
    static double[] cpuRun(Path rom, int kase, int n, Path trace, long tscKhz) {
        try (Machine m = Machine.create(config(rom, false, trace))) {
            setUp(m, kase, n);
            long t0 = System.nanoTime();
            RunResult r = m.run(RUN_LIMIT);
            ExitRun run = finish(m, r, kase, n, System.nanoTime() - t0);
            ThreadTimes times = r.vcpus().isEmpty() ? null : r.vcpus().get(0).times();
            double cpu = times == null || run.exits() <= 0 ? Double.NaN
                    : (double) (times.userNanos() + times.systemNanos()) / run.exits();
            return new double[] {run.microsPerIteration(tscKhz), cpu};
        }
    }

    static ExitRun finish(Machine m, RunResult r, int kase, int n, long wallNanos) {
        if (r.reason() != RunResult.Reason.DEBUG_EXIT || BenchGuest.le32(m.readPhysical(BenchGuest.RESULT_DONE, 4)) != BenchGuest.DONE_MAGIC) {
            throw new IllegalStateException("bench-exits case " + kase + " did not finish on jkvm: " + r.reason() + ": " + r.message());
        }
        long cycles = BenchGuest.le64(m.readPhysical(BenchGuest.RESULT_TSC, 8));
        long exits = r.vcpus().isEmpty() ? -1 : r.vcpus().get(0).user().total();
        long outside = r.vcpus().isEmpty() ? -1 : r.vcpus().get(0).user().nanosOutside();
        return new ExitRun(n, cycles, wallNanos, exits, outside);
    }

    /**
     * What one run allocates: on the vCPU thread while the guest loops, sampled every few
     * milliseconds with {@code ThreadMXBean.getThreadAllocatedBytes} on "CPU 0/KVM"; and in the whole
     * JVM from {@code Machine.create} to {@code close} ({@code getTotalThreadAllocatedBytes}).
     *
     * <p>The vCPU thread also serves the machine's halt watcher, which kicks it out of the guest
     * about ten times a second to look at its MP state and registers (that allocates). A sample
     * interval is "clean" when neither it nor the one before saw a kick (the kick counter moves
     * before the look runs, so a look that straddles a sample shows in the interval before); the
     * bytes of the clean intervals over their exits are the exit path's own allocation.
     */
    public static Allocation allocation(Path rom, int kase, int n) {
        return allocation(rom, kase, n, null);
    }

    /** The same with every exit traced to {@code trace} (null: tracing off). */
    public static Allocation allocation(Path rom, int kase, int n, Path trace) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total0 = mx.getTotalThreadAllocatedBytes();
        long exits;
        long threadBytes = 0;
        long threadExits = 0;
        long looks = 0;
        long cleanBytes = 0;
        long cleanExits = 0;
        List<Double> cleanRates = new ArrayList<>();
        boolean measured = false;
        try (Machine m = Machine.create(config(rom, false, trace))) {
            setUp(m, kase, n);
            m.start();
            Thread vcpu = findThread(VCPU0_THREAD);
            sleep(50); // the guest is in its loop by then
            long prevKicks = -1;
            long kicks0 = kicks(m);
            long bytes0 = vcpu == null ? -1 : mx.getThreadAllocatedBytes(vcpu.threadId());
            long exits0 = exits(m);
            while (bytes0 >= 0 && !m.ended()) {
                sleep(3);
                long bytes1 = mx.getThreadAllocatedBytes(vcpu.threadId());
                long exits1 = exits(m);
                long kicks1 = kicks(m);
                if (bytes1 < 0 || m.ended()) {
                    break; // the thread is gone: keep what was sampled while it ran
                }
                measured = true;
                threadBytes += bytes1 - bytes0;
                threadExits += exits1 - exits0;
                looks += kicks1 - kicks0;
                if (kicks1 == kicks0 && prevKicks == kicks0 && exits1 > exits0) {
                    cleanBytes += bytes1 - bytes0;
                    cleanExits += exits1 - exits0;
                    cleanRates.add((double) (bytes1 - bytes0) / (exits1 - exits0));
                }
                prevKicks = kicks0;
                kicks0 = kicks1;
                bytes0 = bytes1;
                exits0 = exits1;
            }
            RunResult r = m.run(RUN_LIMIT);
            exits = r.vcpus().isEmpty() ? 0 : r.vcpus().get(0).user().total();
        }
        long total = mx.getTotalThreadAllocatedBytes() - total0;
        double[] rates = cleanRates.stream().mapToDouble(Double::doubleValue).toArray();
        long allocating = cleanRates.stream().filter(v -> v > 0).count();
        return measured ? new Allocation(threadBytes, threadExits, looks, cleanBytes, cleanExits, rates.length, allocating,
                Samples.median(rates), total, exits)
                : new Allocation(-1, 0, 0, -1, 0, 0, 0, Double.NaN, total, exits);
    }

    private static long exits(Machine m) {
        return m.vcpus().get(0).counters().snapshot().total();
    }

    private static long kicks(Machine m) {
        return m.vcpus().get(0).counters().snapshot().interruptions();
    }

    /**
     * @param threadBytes bytes the vCPU thread allocated while the guest looped (-1: not measured)
     * @param threadExits exits in that time
     * @param looks times the vCPU was kicked out of KVM_RUN in that time (the halt watcher's looks)
     * @param cleanBytes bytes allocated in the sample intervals without a look
     * @param cleanExits exits in those intervals
     * @param cleanIntervals how many intervals were without a look
     * @param allocatingIntervals how many of those saw any allocation at all
     * @param medianCleanRate the median over those intervals of bytes per exit
     * @param runBytes bytes the whole JVM allocated from create to close
     * @param runExits exits of the whole run
     */
    public record Allocation(long threadBytes, long threadExits, long looks, long cleanBytes, long cleanExits,
                             long cleanIntervals, long allocatingIntervals, double medianCleanRate,
                             long runBytes, long runExits) {

        /**
         * The exit path's own allocation: the median over the look-free intervals of their bytes
         * per exit (a path that allocates per exit allocates in every interval; a rare stray
         * allocation, e.g. a look whose thread was preempted for longer than an interval, does not
         * move the median).
         */
        public double exitBytesPerExit() {
            return medianCleanRate;
        }

        /** Bytes per exit summed over all look-free intervals. */
        public double cleanBytesPerExit() {
            return cleanBytes < 0 || cleanExits == 0 ? Double.NaN : (double) cleanBytes / cleanExits;
        }

        /** Everything the vCPU thread allocated, per exit. */
        public double threadBytesPerExit() {
            return threadBytes < 0 || threadExits == 0 ? Double.NaN : (double) threadBytes / threadExits;
        }

        /** The whole JVM from create to close, per exit: the machine's setup amortised over the run. */
        public double runBytesPerExit() {
            return runExits == 0 ? Double.NaN : (double) runBytes / runExits;
        }

        /** Bytes per halt-watcher look, assuming everything outside the clean intervals was looks. */
        public double bytesPerLook() {
            return looks == 0 ? Double.NaN : (double) (threadBytes - cleanBytes) / looks;
        }
    }

    static Thread findThread(String name) {
        for (int i = 0; i < 200; i++) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals(name) && t.isAlive()) {
                    return t;
                }
            }
            sleep(1);
        }
        return null;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
