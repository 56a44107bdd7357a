package dev.jkvm.bench;

import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import dev.jkvm.vmm.snapshot.Snapshot;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The snapshot issue's goals, measured with the bundled {@code snapshot} kernel in a 128 MiB guest:
 * a restore in place after the guest overwrote its 1 MiB pattern (only the dirty pages are copied
 * back), and a snapshot to a file of a guest that touched about 2 MiB, then resumed from it.
 *
 * <pre>{@code
 * SnapshotBench.InPlace s = SnapshotBench.restoreInPlace(20);
 * }</pre>
 */
public final class SnapshotBench {

    private static final Duration LIMIT = Duration.ofSeconds(120);
    private static final long MEMORY = 128L << 20;

    /**
     * Restores in place: per repetition the restore's wall time (the machine paused around it),
     * the pages it wrote, and the bytes allocated by the caller's and the vCPU's threads.
     */
    public record InPlace(double[] ms, long pages, double bytesPerRestore, double bytesPerPage) {
    }

    /** One save and resume: the file's size, the save's and the resume's time (load, machine, vCPUs started). */
    public record ToFile(long fileBytes, double saveMs, double resumeMs) {
    }

    private SnapshotBench() {
    }

    static MachineConfig config(String append) {
        return MachineConfig.builder().memory(MEMORY).kernelImage("snapshot").append(append)
                .serial(SerialBackend.none()).build();
    }

    private static void ask(Machine m, String command, String answer) throws InterruptedException {
        m.serial().send(command);
        if (m.serial().awaitLine(Pattern.compile(answer), LIMIT).isEmpty()) {
            throw new IllegalStateException("the snapshot guest did not answer '" + command + "' with " + answer + ": "
                    + m.serial().tail(5));
        }
    }

    /** {@code reps} restores of a guest that overwrote its 1 MiB (256 pages) since the snapshot. */
    public static InPlace restoreInPlace(int reps) throws InterruptedException {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Machine m = Machine.create(config("pages=256"))) {
            m.start();
            if (m.serial().awaitLine(Pattern.compile("snap ready.*"), LIMIT).isEmpty()) {
                throw new IllegalStateException("the snapshot guest did not boot: " + m.serial().tail(5));
            }
            Snapshot s = m.snapshot();
            double[] ms = new double[reps];
            long pages = 0;
            long allocDirty = 0;
            long allocClean = 0;
            int warm = 5;
            for (int i = -warm; i < reps; i++) {
                ask(m, "o", "snap overwritten");
                if (!m.pause()) {
                    throw new IllegalStateException("the guest did not pause");
                }
                long tid = Thread.currentThread().threadId();
                long a0 = threads.getThreadAllocatedBytes(tid) + vcpuAllocated(threads);
                long t0 = System.nanoTime();
                m.restore(s);
                long t1 = System.nanoTime();
                long a1 = threads.getThreadAllocatedBytes(tid) + vcpuAllocated(threads);
                pages = m.lastRestore().pages();
                if (!m.lastRestore().dirtyOnly()) {
                    throw new IllegalStateException("the restore did not take the dirty-page path");
                }
                m.restore(s); // nothing dirty: what a restore allocates without pages to copy
                long a2 = threads.getThreadAllocatedBytes(tid) + vcpuAllocated(threads);
                if (i >= 0) {
                    ms[i] = (t1 - t0) / 1e6;
                    allocDirty += a1 - a0;
                    allocClean += a2 - a1;
                }
                m.resume();
                ask(m, "c", "snap pattern intact");
            }
            double perRestore = (double) allocDirty / reps;
            double perPage = Math.max(0, (double) (allocDirty - allocClean) / reps / pages);
            return new InPlace(ms, pages, perRestore, perPage);
        }
    }

    /** Bytes the vCPU threads of this JVM allocated so far (they serve the restore's requests). */
    private static long vcpuAllocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().endsWith("/KVM")) {
                sum += Math.max(0, threads.getThreadAllocatedBytes(t.threadId()));
            }
        }
        return sum;
    }

    /** Creates the same machine afresh and closes it: what a restore in place saves. */
    public static double freshMachineMs() {
        long t0 = System.nanoTime();
        try (Machine m = Machine.create(config("pages=256"))) {
            m.start();
        }
        JkvmLifecycle.awaitReleased(); // the VM's destruction, which close hands to a thread of its own, is part of it
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Saves a guest that touched about 2 MiB (512 pattern pages) to {@code dir} and resumes it. */
    public static ToFile toFile(Path dir) throws Exception {
        MachineConfig config = config("pages=512");
        Path file = dir.resolve("bench.snap");
        double saveMs;
        try (Machine m = Machine.create(config)) {
            m.start();
            if (m.serial().awaitLine(Pattern.compile("snap ready.*"), LIMIT).isEmpty()) {
                throw new IllegalStateException("the snapshot guest did not boot: " + m.serial().tail(5));
            }
            long t0 = System.nanoTime();
            m.pause();
            m.snapshot().save(file);
            saveMs = (System.nanoTime() - t0) / 1e6;
        }
        long t0 = System.nanoTime();
        try (Machine m = Machine.create(config, Snapshot.load(file))) {
            m.start();
            double resumeMs = (System.nanoTime() - t0) / 1e6;
            ask(m, "c", "snap pattern intact");
            m.serial().send("q");
            RunResult r = m.run(LIMIT);
            if (r.exitStatus() != 33) {
                throw new IllegalStateException("the resumed guest ended as " + r.reason() + ": " + r.message());
            }
            return new ToFile(Files.size(file), saveMs, resumeMs);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
