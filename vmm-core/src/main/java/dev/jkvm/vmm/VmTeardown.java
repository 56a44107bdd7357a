package dev.jkvm.vmm;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The kernel's half of closing a machine, off the caller's thread: its vCPU and VM descriptors closed (KVM destroys the
 * VM when the last one goes, ~1 ms of a tiny machine's ~3.5) and its guest memory unmapped, on one daemon platform thread
 * of the process ({@value #THREAD_NAME}), so the caller's next {@link Machine#create} runs beside it on another host CPU.
 * What comes here is only what nothing can touch any more: {@link Machine#close()} has ended every vCPU's work, closed
 * the devices and cut jkvm's API off the memory first (a machine whose vCPU thread did not end hands over nothing).
 *
 * <p>Bounded: at most {@value #MAX_PENDING} machines handed over and not yet released (the one being closed counts),
 * with at most {@link #MAX_PENDING_BYTES} of guest memory between them.
 * A close that finds them all taken releases its own machine itself, before it returns, as every close did before:
 * the caller is then making machines faster than one thread destroys them, and waiting for a slot would cost it as
 * much while making its close wait on another machine's (a 64 GiB guest's unmap, say). So however fast an embedder
 * creates machines, no more than {@value #MAX_PENDING} VMs and guest memories wait, and the thread is parked, not
 * ended, when idle (one thread per process that ever closed a machine: tests that count threads see it from the first).
 *
 * <p>Lock order: {@link #LOCK} is a leaf. Nothing is taken while it is held, and the steps run outside it, so a close
 * may come from under any of jkvm's locks.
 */
final class VmTeardown {

    /** The teardown thread's name (what {@code top -H} and a thread dump show). */
    static final String THREAD_NAME = "jkvm VM teardown";
    /** Machines handed over and not yet released, at most: the thread's current one and one queued behind it. */
    static final int MAX_PENDING = 2;
    /**
     * Guest memory (bytes mapped) handed over and not yet released, at most: a closed machine's touched pages stay
     * resident until its unmap, so back-to-back large guests would otherwise hold two or three guests' memory at once
     * (a nested test VM of 3 GiB ran out of it with 1, 3.5 and 5 GiB guests, each touched every 2 MiB). A larger machine
     * is released by its own close, as before; tiny test guests (128 MiB by default) still go to the thread.
     */
    static final long MAX_PENDING_BYTES = 512L << 20;

    private static final Object LOCK = new Object();
    /** Guarded by LOCK: the machines waiting, oldest first, and those handed over and not yet released (waiting or being closed). */
    private static final ArrayDeque<Job> QUEUE = new ArrayDeque<>();
    private static int unreleased;
    private static long unreleasedBytes;
    private static Thread thread;

    /** One machine's steps, in order, and where a failure of one is told. */
    private record Job(List<Runnable> steps, Consumer<String> report, long bytes) {
    }

    private VmTeardown() {
    }

    /**
     * Runs {@code steps} in order on the teardown thread, or here when {@value #MAX_PENDING} machines are pending already.
     * A failing step does not stop the others; the first failure is one line to {@code report} (on whichever thread ran
     * them), never an exception: the caller of close has returned, or should not get a different answer here.
     */
    static void submit(List<Runnable> steps, Consumer<String> report) {
        submit(steps, report, 0);
    }

    /** As {@link #submit(List, Consumer)} for a machine of {@code bytes} of guest memory, which count against {@link #MAX_PENDING_BYTES}. */
    static void submit(List<Runnable> steps, Consumer<String> report, long bytes) {
        Job job = new Job(List.copyOf(steps), report, bytes);
        synchronized (LOCK) {
            if (unreleased < MAX_PENDING && unreleasedBytes + bytes <= MAX_PENDING_BYTES) {
                unreleased++;
                unreleasedBytes += bytes;
                QUEUE.addLast(job);
                if (thread == null) {
                    // it lives as long as the process: none of the first closer's inheritable thread locals
                    thread = Thread.ofPlatform().name(THREAD_NAME).daemon(true).inheritInheritableThreadLocals(false)
                            .start(VmTeardown::serve);
                }
                LOCK.notifyAll();
                return;
            }
        }
        run(job);
    }

    /**
     * Waits up to {@code timeout} until every machine handed over is released (its descriptors closed, its memory
     * unmapped); returns whether they all are. An interrupt does not cut the wait short: it is kept for the caller.
     */
    static boolean awaitReleased(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            synchronized (LOCK) {
                while (unreleased > 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    try {
                        LOCK.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                return true;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** How many machines are handed over and not yet released (for tests). */
    static int pending() {
        synchronized (LOCK) {
            return unreleased;
        }
    }

    private static void serve() {
        Thread.currentThread().setContextClassLoader(null); // nor its class loader (an embedder's, which would stay loaded)
        while (true) {
            Job job;
            synchronized (LOCK) {
                while (QUEUE.isEmpty()) {
                    try {
                        LOCK.wait();
                    } catch (InterruptedException e) {
                        // nobody should interrupt it; it has machines to release either way
                    }
                }
                job = QUEUE.pollFirst();
            }
            try {
                run(job);
            } finally {
                synchronized (LOCK) {
                    unreleased--;
                    unreleasedBytes -= job.bytes();
                    LOCK.notifyAll();
                }
            }
        }
    }

    /** Runs every step of {@code job}; the first failure, if any, is told once. Throws nothing (the thread lives on). */
    private static void run(Job job) {
        Throwable first = null;
        for (Runnable step : job.steps()) {
            try {
                step.run();
            } catch (RuntimeException | Error e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            try {
                job.report().accept("jkvm: releasing a closed machine's VM and memory failed: " + first);
            } catch (RuntimeException | Error e) {
                // the embedder's log failed too: nothing is left to tell
            }
        }
    }
}
