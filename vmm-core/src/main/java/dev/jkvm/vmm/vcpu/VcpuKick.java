package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.LibcConstants;

/**
 * How another thread gets a vCPU out of the guest: {@code immediate_exit} (covers the window
 * before the next {@code KVM_RUN}) plus a signal that is blocked in the vCPU thread except inside
 * {@code KVM_RUN} (QEMU's and kvmtool's technique), so it interrupts the guest without ever
 * running a handler. Also when the last kick was asked for and how long the vCPU took to leave.
 */
final class VcpuKick {

    /** The signal: a real-time one, which the JVM does not use. */
    static final int SIGNAL = LibcConstants.SIGRTMIN + 4;

    /** Once per process, before any vCPU thread runs: a stray kick is dropped, never fatal. */
    static {
        Libc.ignoreSignal(SIGNAL);
    }

    /** Runs the static initialiser above, if it has not run. */
    static void prepareProcess() {
    }

    private final VcpuFd fd;
    private final VcpuThread thread;
    private volatile long kickedAt;
    private volatile long lastLatencyNanos = -1;

    VcpuKick(VcpuFd fd, VcpuThread thread) {
        this.fd = fd;
        this.thread = thread;
    }

    /** On the vCPU thread before its first KVM_RUN: the signal gets through only inside KVM_RUN. */
    void blockOutsideKvmRun() {
        fd.setSignalMask(Libc.blockSignalForKvmRun(SIGNAL));
    }

    /** Makes the vCPU leave the guest soon, timed for {@link #lastLatencyNanos()}. Any thread. */
    void kick() {
        if (kickedAt == 0) {
            kickedAt = System.nanoTime();
        }
        fd.setImmediateExit(true);
        if (!thread.isCurrent()) {
            signal();
        }
    }

    /** A kick that only asks the vCPU to look outside (it goes back in afterwards); not timed. */
    void nudge() {
        fd.setImmediateExit(true);
        signal();
    }

    private void signal() {
        int t = thread.tid();
        if (t != 0) {
            try {
                Libc.tgkill(t, SIGNAL);
            } catch (RuntimeException e) {
                // The thread has already exited: nothing to interrupt (its way out serves its mailbox).
            }
        }
    }

    /** On the vCPU thread, out of the guest at {@code now}: how long the pending kick took. */
    void seen(long now) {
        long k = kickedAt;
        if (k != 0) {
            lastLatencyNanos = now - k;
            kickedAt = 0;
        }
    }

    /** On the vCPU thread after an interrupted KVM_RUN: takes the signal, so the next KVM_RUN is not cut short. */
    void consume() {
        Libc.consumePendingSignal(SIGNAL);
    }

    /** Nanoseconds from the last {@link #kick()} to the vCPU being out of {@code KVM_RUN}, or -1. */
    long lastLatencyNanos() {
        return lastLatencyNanos;
    }
}
