package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.Libc;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.host.ThreadTimes;
import java.util.BitSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The platform thread a vCPU runs on (a parked one of {@link VcpuThreadPool} when there is one,
 * else a new one): its life stage, the host CPUs it is pinned to, its Linux thread id while it
 * runs (for kicks and {@code info cpus}) and the CPU times the host gave it, kept after it ends.
 * The stage changes under one lock, so a caller can tell "still running" from "gone" atomically
 * with what it does next ({@link #ifExited}).
 */
final class VcpuThread {

    private final String name;
    private final BitSet affinity;
    private final Object lock = new Object();
    /** Counted down once the vCPU's body has ended and the thread holds nothing of it any more. */
    private final CountDownLatch done = new CountDownLatch(1);
    private Vcpu.State state = Vcpu.State.NEW;
    /** The thread while it runs this vCPU; null before and after (it may run another vCPU then). */
    private volatile Thread thread;
    private VcpuThreadPool.Carrier carrier;
    /** What the thread had used for the vCPUs it ran before this one (null on a new thread). */
    private volatile ThreadTimes before;
    private volatile int tid;
    private volatile int lastTid;
    private volatile ThreadTimes finalTimes;

    /** @param affinity the host CPUs to pin it to before it first enters the guest, or null */
    VcpuThread(String name, BitSet affinity) {
        this.name = name;
        this.affinity = affinity == null ? null : (BitSet) affinity.clone();
    }

    /** Starts {@code body} on a daemon platform thread named for the vCPU, once; later calls do nothing. */
    void start(Runnable body) {
        synchronized (lock) {
            if (state != Vcpu.State.NEW) {
                return;
            }
            state = Vcpu.State.RUNNING;
            VcpuThreadPool.start(name, c -> run(c, body));
        }
    }

    private void run(VcpuThreadPool.Carrier c, Runnable body) {
        carrier = c;
        before = c.timesBefore();
        thread = c.thread();
        try {
            body.run();
        } finally {
            thread = null;
            c.finish(done::countDown); // parked for the next vCPU first, so the next machine finds it
        }
    }

    /** On the thread, first: pins it to its host CPUs, if it has any. */
    void pin() {
        if (affinity != null) {
            Libc.schedSetaffinity(0, affinity);
        }
    }

    /** Whether the thread ran another vCPU before this one (a kick sent to that one may be pending on it). */
    boolean reused() {
        return carrier != null && carrier.reused(); // null: Vcpu.run called on a thread of the caller's (a test's)
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
        ThreadTimes now = carrier != null ? carrier.times() : ThreadTimes.of(tid);
        finalTimes = since(now);
        if (carrier != null) {
            carrier.timesAtEnd(now);
        }
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

    /** Whether the caller is this vCPU's thread while it runs this vCPU (lock-free: kicks ask it). */
    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    private boolean started() {
        synchronized (lock) {
            return state != Vcpu.State.NEW;
        }
    }

    /** Waits up to {@code millis} (at least 1) for the vCPU's thread to be done with it; true when it is (or never started). */
    boolean join(long millis) throws InterruptedException {
        return !started() || done.await(Math.max(1, millis), TimeUnit.MILLISECONDS);
    }

    /** Waits up to {@code nanos} (none when not positive) for the vCPU's thread to be done with it; true when it is (or never started). */
    boolean joinNanos(long nanos) throws InterruptedException {
        return !started() || done.await(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    /** Waits for the vCPU's thread to be done with it. */
    void join() throws InterruptedException {
        if (started()) {
            done.await();
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

    /** The CPU times the host accounted to it for this vCPU: live while it runs, as it ended afterwards. */
    ThreadTimes times() {
        int t = tid;
        ThreadTimes live = t != 0 ? ThreadTimes.of(t) : null;
        return live != null ? since(live) : finalTimes;
    }

    /** {@code now} less what the thread had used for the vCPUs it ran before this one. */
    private ThreadTimes since(ThreadTimes now) {
        ThreadTimes b = before;
        return now == null || b == null ? now : now.since(b);
    }

    /** The host CPU it last ran on, or -1. */
    int lastHostCpu() {
        int t = tid;
        return t == 0 ? -1 : HostCpus.lastCpuOf(t);
    }
}
