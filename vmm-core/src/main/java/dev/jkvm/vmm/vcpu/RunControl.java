package dev.jkvm.vmm.vcpu;

import dev.jkvm.vmm.RunResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one place a run's end and pauses are decided. The first {@link #end} wins, every vCPU is
 * kicked out of the guest, and waiters are released; {@link #pause} parks every vCPU outside the
 * guest until {@link #resume}. vCPUs read the two flags after every exit (volatile reads, no lock).
 */
public final class RunControl {

    private final AtomicReference<RunResult> result = new AtomicReference<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final List<Vcpu> vcpus = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;
    private volatile boolean paused;
    private final Object parkLock = new Object();
    private int parkedCount;

    void attach(Vcpu vcpu) {
        vcpus.add(vcpu);
    }

    /** Whether the run is ending: vCPUs leave their loop. */
    public boolean stopping() {
        return stopping;
    }

    /** Whether vCPUs should park outside the guest. */
    public boolean pauseRequested() {
        return paused;
    }

    /** Ends the run with {@code outcome} unless it already ended; returns whether this call decided it. */
    public boolean end(RunResult outcome) {
        if (!result.compareAndSet(null, outcome)) {
            return false;
        }
        stopping = true;
        for (Vcpu v : vcpus) {
            v.kick();
        }
        synchronized (parkLock) {
            parkLock.notifyAll();
        }
        ended.countDown();
        return true;
    }

    /**
     * Parks every running vCPU outside the guest and waits (up to {@code timeout}) until they are.
     *
     * @return whether every started vCPU was parked in time
     */
    public boolean pause(Duration timeout) throws InterruptedException {
        paused = true;
        for (Vcpu v : vcpus) {
            v.kick();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (parkLock) {
            while (parkedCount < running() && !stopping) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(parkLock, left);
            }
        }
        return true;
    }

    private int running() {
        int n = 0;
        for (Vcpu v : vcpus) {
            if (v.state() == Vcpu.State.RUNNING) {
                n++;
            }
        }
        return n;
    }

    /** Before the vCPUs start: they park before their first instruction ({@code -S}). */
    public void holdAtStart() {
        paused = true;
    }

    /** Lets parked vCPUs go back into the guest. */
    public void resume() {
        synchronized (parkLock) {
            paused = false;
            parkLock.notifyAll();
        }
    }

    /**
     * Called by a vCPU thread that saw {@link #pauseRequested()}: waits until resumed or ended,
     * serving requests for the vCPU meanwhile.
     */
    void park(Vcpu vcpu) throws InterruptedException {
        synchronized (parkLock) {
            parkedCount++;
            parkLock.notifyAll();
            try {
                while (paused && !stopping) {
                    parkLock.wait(20); // wakes to serve requests posted for this vCPU
                    parkLock.notifyAll();
                    vcpu.serveRequests();
                }
            } finally {
                parkedCount--;
            }
        }
    }

    /** Wakes parked vCPUs so they serve a request at once. */
    void wakeParked() {
        synchronized (parkLock) {
            parkLock.notifyAll();
        }
    }

    /** Waits for the end; {@code null} timeout waits for ever. Returns the result, or null if the time passed first. */
    public RunResult await(Duration timeout) throws InterruptedException {
        if (timeout == null) {
            ended.await();
        } else if (!ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return null;
        }
        return result.get();
    }

    /** The result, once ended; null while running. */
    public RunResult result() {
        return result.get();
    }
}
