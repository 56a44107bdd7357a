package dev.jkvm.bench;

import dev.jkvm.vmm.Firmware;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import dev.jkvm.vmm.memory.MemoryMap;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;

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
        return MachineConfig.builder().firmware(Firmware.file(rom)).serial(SerialBackend.none()).memory(MEMORY)
                .cpus(1).irqchip(irqchip).build();
    }

    /** Writes the case and N where the guest reads them. */
    static void setUp(Machine m, int kase, int n) {
        m.writePhysical(BenchGuest.PARAM_CASE, BenchGuest.le32(kase));
        m.writePhysical(BenchGuest.PARAM_N, BenchGuest.le32(n));
    }

    /** One run of case {@code kase} with {@code n} iterations. */
    public static ExitRun run(Path rom, int kase, int n, boolean irqchip) {
        try (Machine m = Machine.create(config(rom, irqchip))) {
            setUp(m, kase, n);
            long t0 = System.nanoTime();
            RunResult r = m.run(RUN_LIMIT);
            long t1 = System.nanoTime();
            return finish(m, r, kase, n, t1 - t0);
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
     * What one run allocates: on the vCPU thread while the guest loops (sampled with
     * {@code ThreadMXBean.getThreadAllocatedBytes} on "CPU 0/KVM", between a sample soon after the
     * start and the last one before the end), and in the whole JVM from {@code Machine.create} to
     * {@code close}, both per exit.
     */
    public static Allocation allocation(Path rom, int kase, int n) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total0 = mx.getTotalThreadAllocatedBytes();
        long exits;
        long loopBytes = -1;
        long loopExits = 0;
        long probes = 0;
        try (Machine m = Machine.create(config(rom, false))) {
            setUp(m, kase, n);
            m.start();
            Thread vcpu = findThread(VCPU0_THREAD);
            JkvmExits.sleep(100); // the guest is in its loop by then
            long firstExits = m.vcpus().get(0).counters().snapshot().total();
            long firstInterrupted = m.vcpus().get(0).counters().snapshot().interruptions();
            long firstBytes = vcpu == null || m.ended() ? -1 : mx.getThreadAllocatedBytes(vcpu.threadId());
            while (firstBytes >= 0 && !m.ended()) {
                sleep(50);
                long exitsNow = m.vcpus().get(0).counters().snapshot().total();
                long interruptedNow = m.vcpus().get(0).counters().snapshot().interruptions();
                long bytes = mx.getThreadAllocatedBytes(vcpu.threadId());
                if (bytes < 0 || m.ended()) {
                    break; // the thread is gone: keep the last sample taken while it ran
                }
                loopBytes = bytes - firstBytes;
                loopExits = exitsNow - firstExits;
                probes = interruptedNow - firstInterrupted;
            }
            RunResult r = m.run(RUN_LIMIT);
            exits = r.vcpus().isEmpty() ? 0 : r.vcpus().get(0).user().total();
        }
        long total = mx.getTotalThreadAllocatedBytes() - total0;
        return new Allocation(loopBytes, loopExits, probes, total, exits);
    }

    /**
     * @param loopBytes bytes the vCPU thread allocated while the guest looped (-1: not measured)
     * @param loopExits exits in that window
     * @param loopInterruptions times the vCPU was kicked out of KVM_RUN in that window (the halt
     *     watcher's look at the vCPU runs on the vCPU thread)
     * @param runBytes bytes the whole JVM allocated from create to close
     * @param runExits exits of the whole run
     */
    public record Allocation(long loopBytes, long loopExits, long loopInterruptions, long runBytes, long runExits) {

        public double loopBytesPerExit() {
            return loopBytes < 0 || loopExits == 0 ? Double.NaN : (double) loopBytes / loopExits;
        }

        public double runBytesPerExit() {
            return runExits == 0 ? Double.NaN : (double) runBytes / runExits;
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
