package dev.jkvm.bench;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import java.nio.file.Path;

/**
 * The jkvm side of the lifecycle cases, through the public embedding API only.
 *
 * <pre>{@code
 * double ns = JkvmLifecycle.vmNanos(rom, 100);      // create, run to HLT, close
 * double ns8 = JkvmLifecycle.vcpuNanos(rom, 8, 10); // create with 8 vCPUs, close
 * }</pre>
 */
public final class JkvmLifecycle {

    private JkvmLifecycle() {
    }

    /** How long the end of a loop waits for the last machines' teardown ("does it end", not how fast). */
    static final java.time.Duration RELEASE_LIMIT = java.time.Duration.ofMinutes(1);

    /**
     * Nanoseconds per VM: {@code Machine.create} (2 MiB, one vCPU, kernel-irqchip=off), {@code run}
     * until the guest's HLT (bench-exits case 0: untouched RAM), {@code close}; {@code count} times,
     * and at the end the wait for the kernel's teardown of the last ones (close hands it to a thread
     * of its own): every VM's destruction is in the time, as it is in the C twin's.
     */
    public static double vmNanos(Path rom, int count) {
        return vmPhases(rom, count).total();
    }

    /** Nanoseconds per VM in each phase, as {@link #vmNanos} runs them (the C twin times the same three). */
    public record Phases(double create, double run, double close) {
        public double total() {
            return create + run + close;
        }
    }

    /** {@link #vmNanos}, split into {@code Machine.create}, {@code run} and {@code close}. */
    public static Phases vmPhases(Path rom, int count) {
        MachineConfig config = JkvmExits.config(rom, false);
        long create = 0;
        long run = 0;
        long close = 0;
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            Machine m = Machine.create(config);
            long t1 = System.nanoTime();
            RunResult r;
            try {
                r = m.run(JkvmExits.RUN_LIMIT);
            } finally {
                long t2 = System.nanoTime();
                m.close();
                long t3 = System.nanoTime();
                create += t1 - t0;
                run += t2 - t1;
                close += t3 - t2;
            }
            if (r.reason() != RunResult.Reason.HALTED) {
                throw new IllegalStateException("the lifecycle guest did not halt: " + r.reason() + ": " + r.message());
            }
        }
        close += awaitReleased();
        return new Phases((double) create / count, (double) run / count, (double) close / count);
    }

    /**
     * Nanoseconds per machine with {@code vcpus} vCPUs (2 MiB, in-kernel irqchip, as a multi-vCPU
     * machine needs): {@code Machine.create} then {@code close}, nothing run; {@code count} times.
     */
    public static double vcpuNanos(Path rom, int vcpus, int count) {
        MachineConfig config = MachineConfig.builder().firmware(BiosRom.file(rom)).serial(SerialBackend.none())
                .memory(JkvmExits.MEMORY).cpus(vcpus).irqchip(true).build();
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Machine.create(config).close();
        }
        awaitReleased();
        return (double) (System.nanoTime() - t0) / count;
    }

    /** Waits for the teardown of every machine closed so far; returns the nanoseconds it took. */
    static long awaitReleased() {
        long t0 = System.nanoTime();
        if (!Machine.awaitReleased(RELEASE_LIMIT)) {
            throw new IllegalStateException("closed machines were not released within " + RELEASE_LIMIT);
        }
        return System.nanoTime() - t0;
    }
}
