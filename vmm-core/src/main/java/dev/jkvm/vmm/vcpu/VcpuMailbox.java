package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.VcpuFd;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The calls other threads make that must run on the vCPU thread. While a vCPU runs only its own
 * thread may issue its ioctls (KVM serialises them on the vCPU, so another thread's
 * {@code KVM_GET_REGS} would wait for as long as the guest stays in): a caller posts a function
 * here, nudges the vCPU out of the guest, and the vCPU thread runs it the next time it is outside
 * {@code KVM_RUN}. One request at a time; the vCPU's loop pays nothing for it on an exit.
 */
final class VcpuMailbox {

    /**
     * A function to run on the vCPU thread, and where its result goes: a one-shot hand-off, not a
     * CompletableFuture, whose get() loads ForkJoinPool and ~20 other classes into every start-up
     * that probes a halted guest (the AOT cache loads each class it holds at every start).
     */
    private static final class Request {
        final Function<VcpuFd, ?> function;
        final Thread caller = Thread.currentThread();
        private Object result;
        private Throwable failure;
        /** Written last by the vCPU thread, read first by the caller: publishes result and failure. */
        private volatile boolean done;

        Request(Function<VcpuFd, ?> function) {
            this.function = function;
        }

        void run(VcpuFd fd) {
            try {
                result = function.apply(fd);
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            done = true;
            LockSupport.unpark(caller);
        }

        /** Waits until run, the deadline or an interrupt (the flag stays set); true when run. */
        boolean await(long timeoutNanos) {
            long deadline = System.nanoTime() + timeoutNanos;
            while (!done) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || Thread.currentThread().isInterrupted()) {
                    return done;
                }
                LockSupport.parkNanos(this, left);
            }
            return true;
        }
    }

    private final int index;
    private final VcpuFd fd;
    private final VcpuThread thread;
    private final VcpuKick kick;
    private final RunControl control;
    private final AtomicReference<Request> posted = new AtomicReference<>();
    /** Set while the debugger holds the vCPU before KVM_RUN: its descriptor is free for other threads then. */
    private volatile boolean callerMayRun;

    VcpuMailbox(int index, VcpuFd fd, VcpuThread thread, VcpuKick kick, RunControl control) {
        this.index = index;
        this.fd = fd;
        this.thread = thread;
        this.kick = kick;
        this.control = control;
    }

    /** While true, callers run their function on their own thread (the vCPU stays out of KVM_RUN meanwhile). */
    void callerMayRun(boolean free) {
        callerMayRun = free;
    }

    /**
     * Runs {@code function} with the vCPU's descriptor on the vCPU thread (or on the caller's, when
     * the thread is not running), waiting up to {@code timeout}.
     *
     * @throws IllegalStateException when the vCPU did not answer in time
     */
    @SuppressWarnings("unchecked")
    <T> T call(Function<VcpuFd, T> function, Duration timeout) {
        if (thread.state() != Vcpu.State.RUNNING || callerMayRun || thread.isCurrent()) {
            return function.apply(fd); // not in (and not about to enter) KVM_RUN, or asked by the vCPU itself
        }
        Request request = new Request(function);
        while (!posted.compareAndSet(null, request)) {
            Thread.onSpinWait(); // another caller's request is being served
        }
        // The thread serves its mailbox one last time as it exits; if that was before we posted,
        // take the request back and run it here.
        if (thread.ifExited(() -> posted.compareAndSet(request, null))) {
            return function.apply(fd);
        }
        control.wakeParked();
        kick.nudge();
        if (!request.await(timeout.toNanos())) {
            posted.compareAndSet(request, null);
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted");
            }
            throw new IllegalStateException("CPU " + index + " did not answer within " + timeout.toMillis() + " ms");
        }
        if (request.failure instanceof RuntimeException r) {
            throw r;
        }
        if (request.failure instanceof Error e) {
            throw e;
        }
        return (T) request.result;
    }

    /** Runs the posted request, if any; on the vCPU thread only. */
    void serve() {
        Request r = posted.getAndSet(null);
        if (r == null) {
            return;
        }
        r.run(fd);
    }
}
