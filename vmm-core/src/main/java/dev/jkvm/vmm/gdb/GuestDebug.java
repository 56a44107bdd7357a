package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.abi.KvmConstants;

/**
 * What one vCPU's {@code KVM_SET_GUEST_DEBUG} gets: the {@code KVM_GUESTDBG_*} control flags and
 * the debug registers DR0-3 and DR7 (already encoded by {@link HardwareBreakpoints}).
 *
 * <pre>{@code
 * // in the machine's DebugTarget.setGuestDebug:
 * vcpuFd(cpu).setGuestDebug(debug.control(), debug.debugreg());
 * }</pre>
 */
public record GuestDebug(int control, long dr0, long dr1, long dr2, long dr3, long dr7) {

    /** Debugging off: the guest's own #BP and #DB go to the guest. */
    public static final GuestDebug OFF = new GuestDebug(0, 0, 0, 0, 0, 0);

    /** {@code kvm_guest_debug.arch.debugreg}: DR0-3 at 0-3, DR7 at 7. */
    public long[] debugreg() {
        return new long[] {dr0, dr1, dr2, dr3, 0, 0, 0, dr7};
    }

    /** Whether the vCPU single-steps. */
    public boolean singleStep() {
        return (control & KvmConstants.KVM_GUESTDBG_SINGLESTEP) != 0;
    }

    /** The same settings, also asking KVM to inject {@code exception} (#DB 1 or #BP 3) into the guest. */
    GuestDebug injecting(int exception) {
        int inject = exception == ExceptionVector.BP ? KvmConstants.KVM_GUESTDBG_INJECT_BP : KvmConstants.KVM_GUESTDBG_INJECT_DB;
        return new GuestDebug(control | KvmConstants.KVM_GUESTDBG_ENABLE | inject, dr0, dr1, dr2, dr3, dr7);
    }

    /** The vectors and DR6 bits a debug exit reports. */
    static final class ExceptionVector {
        static final int DB = 1;
        static final int BP = 3;
        /** DR6.BS: the exit is a single step. */
        static final long DR6_BS = 1L << 14;

        private ExceptionVector() {
        }
    }
}
