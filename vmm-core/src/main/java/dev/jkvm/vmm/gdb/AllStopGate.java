package dev.jkvm.vmm.gdb;

import java.util.Arrays;
import java.util.BitSet;
import java.util.function.IntConsumer;

/**
 * Holds the vCPU threads for the debugger: all-stop, as QEMU does it. Each vCPU thread calls
 * {@link #checkpoint} before every {@code KVM_RUN}; while a pause is requested, or while the
 * debugger has not let that vCPU run, the call blocks. {@link #pauseAll} requests a pause, kicks
 * the vCPUs that are in the guest and waits until none is; {@link #resume} lets a set of them go.
 *
 * <p>The checkpoint's fast path is one volatile read and a read of the thread's own state: no
 * lock, no allocation. A vCPU counts as in the guest from the moment it leaves a checkpoint
 * until it enters the next one (or {@link #finished}); one that has not started yet counts as
 * outside, and will stop at its first checkpoint.
 *
 * <pre>{@code
 * AllStopGate gate = new AllStopGate(2, machine::kick, false);
 * // vCPU thread: while (...) { gate.checkpoint(i); fd.run(); ... }
 * gate.pauseAll();            // debugger thread: every vCPU is now outside KVM_RUN
 * gate.resume(everyCpu);
 * }</pre>
 */
final class AllStopGate {

    private static final int OUTSIDE = 0;
    private static final int IN_GUEST = 1;
    private static final int FINISHED = 2;

    private final Object lock = new Object();
    private final IntConsumer kick;
    /** Written under lock by the owning vCPU thread only, so that thread may read it without one. */
    private final int[] state;
    private final boolean[] allowed;
    private volatile boolean pauseRequested;
    private boolean open;

    /** {@code startPaused}: hold every vCPU at its first checkpoint until {@link #resume} (QEMU's -S). */
    AllStopGate(int cpus, IntConsumer kick, boolean startPaused) {
        this.kick = kick;
        this.state = new int[cpus];
        this.allowed = new boolean[cpus];
        Arrays.fill(allowed, true);
        this.pauseRequested = startPaused;
    }

    /** vCPU thread, before each KVM_RUN: returns at once unless the debugger holds this vCPU. */
    void checkpoint(int cpu) {
        if (!pauseRequested && state[cpu] == IN_GUEST) {
            return;
        }
        synchronized (lock) {
            state[cpu] = OUTSIDE;
            lock.notifyAll();
            try {
                while (!open && (pauseRequested || !allowed[cpu])) {
                    lock.wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the machine is tearing down: let the thread go
            }
            state[cpu] = IN_GUEST;
        }
    }

    /** vCPU thread, when it leaves its loop for good: nothing waits for it any more. */
    void finished(int cpu) {
        synchronized (lock) {
            state[cpu] = FINISHED;
            lock.notifyAll();
        }
    }

    /** Any thread: asks every vCPU to stop at its next checkpoint and kicks those in the guest but {@code except}. */
    void requestPause(int except) {
        boolean[] inGuest = new boolean[state.length];
        synchronized (lock) {
            if (open) {
                return;
            }
            pauseRequested = true;
            for (int cpu = 0; cpu < state.length; cpu++) {
                inGuest[cpu] = state[cpu] == IN_GUEST && cpu != except;
            }
        }
        // Kicked outside the lock: the machine's kick may take locks of its own.
        for (int cpu = 0; cpu < inGuest.length; cpu++) {
            if (inGuest[cpu]) {
                kick.accept(cpu);
            }
        }
    }

    /** Debugger thread: stops every vCPU and returns once none is in the guest (at once after {@link #shutdown}). */
    void pauseAll() throws InterruptedException {
        requestPause(-1);
        synchronized (lock) {
            while (!open && anyInGuest()) {
                lock.wait();
            }
        }
    }

    /** Debugger thread: lets the vCPUs in {@code cpus} run; the others stay held. */
    void resume(BitSet cpus) {
        synchronized (lock) {
            for (int cpu = 0; cpu < allowed.length; cpu++) {
                allowed[cpu] = cpus.get(cpu);
            }
            pauseRequested = false;
            lock.notifyAll();
        }
    }

    /** Lets every vCPU run from now on, whatever is requested later: the machine is ending. */
    void shutdown() {
        synchronized (lock) {
            open = true;
            pauseRequested = false;
            lock.notifyAll();
        }
    }

    /** Whether the vCPU is held or has not run yet (for tests and assertions). */
    boolean isOutside(int cpu) {
        synchronized (lock) {
            return state[cpu] != IN_GUEST;
        }
    }

    int cpuCount() {
        return state.length;
    }

    private boolean anyInGuest() {
        for (int s : state) {
            if (s == IN_GUEST) {
                return true;
            }
        }
        return false;
    }
}
