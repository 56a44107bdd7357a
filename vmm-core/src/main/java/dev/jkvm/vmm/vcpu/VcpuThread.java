package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.Libc;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.host.ThreadTimes;
import java.util.BitSet;
import java.util.function.BooleanSupplier;

/**
 * The platform thread a vCPU runs on: its life stage, the host CPUs it is pinned to, its Linux
 * thread id while it runs (for kicks and {@code info cpus}) and the CPU times the host gave it,
 * kept after it ends.
 * The stage changes under one lock, so a caller can tell "still running" from "gone" atomically
 * with what it does next ({@link #ifExited}).
 */
final class VcpuThread {

    private final String name;
    private final BitSet affinity;
    private final Object lock = new Object();
    private Vcpu.State state = Vcpu.State.NEW;
    private volatile Thread thread;
    private volatile int tid;
    private volatile int lastTid;
    private volatile ThreadTimes finalTimes;

    /** @param affinity the host CPUs to pin it to before it first enters the guest, or null */
    VcpuThread(String name, BitSet affinity) {
        this.name = name;
        this.affinity = affinity == null ? null : (BitSet) affinity.clone();
    }

    /** Starts {@code body} on a new daemon platform thread, once; later calls do nothing. */
    void start(Runnable body) {
        synchronized (lock) {
            if (state != Vcpu.State.NEW) {
                return;
            }
            state = Vcpu.State.RUNNING;
            thread = Thread.ofPlatform().name(name).daemon(true).unstarted(body);
            thread.start();
        }
    }

    /** On the thread, first: pins it to its host CPUs, if it has any. */
    void pin() {
        if (affinity != null) {
            Libc.schedSetaffinity(0, affinity);
        }
    }

    /** The host CPUs it is pinned to at start, or null. */
    BitSet affinity() {
        return affinity == null ? null : (BitSet) affinity.clone();
    }

    /** On the thread, once it can be kicked: publishes its Linux thread id. */
    void entered() {
        lastTid = Libc.gettid();
        tid = lastTid;
    }

    /** On the thread, as it leaves: keeps its final times, then marks it ended and runs {@code lastWords} under the lock. */
    void exited(Runnable lastWords) {
        finalTimes = ThreadTimes.of(tid);
        tid = 0;
        synchronized (lock) {
            state = Vcpu.State.EXITED;
            lastWords.run();
        }
    }

    /** Whether it has ended, and if so what {@code then} says, decided before it could end meanwhile. */
    boolean ifExited(BooleanSupplier then) {
        synchronized (lock) {
            return state == Vcpu.State.EXITED && then.getAsBoolean();
        }
    }

    Vcpu.State state() {
        synchronized (lock) {
            return state;
        }
    }

    /** Whether the caller is this vCPU's thread (lock-free: kicks ask it). */
    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** Waits up to {@code millis} (at least 1) for the thread to end; true when it has (or never started). */
    boolean join(long millis) throws InterruptedException {
        Thread t = thread;
        if (t == null) {
            return true;
        }
        t.join(Math.max(1, millis));
        return !t.isAlive();
    }

    /** Waits for the thread to end. */
    void join() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join();
        }
    }

    /** The Linux thread id while it runs; 0 before and after. */
    int tid() {
        return tid;
    }

    /** The Linux thread id it had, also after it ended; 0 before it started. */
    int lastTid() {
        return lastTid;
    }

    /** The CPU times the host accounted to it: live while it runs, as it ended afterwards. */
    ThreadTimes times() {
        int t = tid;
        ThreadTimes live = t != 0 ? ThreadTimes.of(t) : null;
        return live != null ? live : finalTimes;
    }

    /** The host CPU it last ran on, or -1. */
    int lastHostCpu() {
        int t = tid;
        return t == 0 ? -1 : HostCpus.lastCpuOf(t);
    }
}
