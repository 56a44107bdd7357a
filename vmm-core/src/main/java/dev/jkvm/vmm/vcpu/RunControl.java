package dev.jkvm.vmm.vcpu;

import dev.jkvm.vmm.RunResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one place a run's end is decided: the first {@link #end} wins, every vCPU is kicked out of
 * the guest, and waiters are released. Owned by one machine; vCPUs poll {@link #stopping()} after
 * every exit (a volatile read, no lock).
 */
public final class RunControl {

    private final AtomicReference<RunResult> result = new AtomicReference<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final List<Vcpu> vcpus = new CopyOnWriteArrayList<>();
    private volatile boolean stopping;

    void attach(Vcpu vcpu) {
        vcpus.add(vcpu);
    }

    /** Whether the run is ending: vCPUs leave their loop. */
    public boolean stopping() {
        return stopping;
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
        ended.countDown();
        return true;
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

    /** The result, once ended. */
    public RunResult result() {
        return result.get();
    }
}
