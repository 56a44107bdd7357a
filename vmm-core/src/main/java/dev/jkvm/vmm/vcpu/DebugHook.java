package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.VcpuExit;

/**
 * What a debugger needs from a vCPU's run loop (the GDB stub implements it): a point before every
 * {@code KVM_RUN} where it may hold the vCPU, the debug exits, and the emulation failures that are
 * its own breakpoints on hosts whose KVM emulates the guest. Absent (null) when no debugger is
 * configured, so the loop pays one null check per exit.
 */
public interface DebugHook {

    /** Before every {@code KVM_RUN}; blocks while the debugger holds the machine. */
    void checkpoint(int vcpu);

    /** On {@code KVM_EXIT_DEBUG}; returns whether the debugger took it. */
    boolean debugExit(int vcpu, VcpuExit.Debug exit);

    /** On an emulation failure at {@code linearRip}; true when it is the debugger's breakpoint (the loop goes on). */
    boolean emulationFailure(int vcpu, long linearRip);

    /** When the vCPU leaves its loop for good. */
    void finished(int vcpu);
}
