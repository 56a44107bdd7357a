package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import java.util.List;

/**
 * What the gdb stub needs from a machine. The machine implements it over its vCPU descriptors
 * and guest memory; tests implement it over arrays.
 *
 * <p>Threads: {@link #kick} is called from any thread at any time. Every other method is called
 * only while the vCPUs are held by {@link GdbStub#checkpoint} (so none is inside
 * {@code KVM_RUN}) — from the stub's session thread — except {@link #setGuestDebug}, which is
 * also called on a vCPU's own thread from inside {@link GdbStub#debugExit} to give the guest back
 * an exception that was its own, and {@link #readVirtual}, which a vCPU's thread calls for itself
 * there to look at watched bytes after each instruction ({@link #watchpointsBySingleStep}).
 *
 * <pre>{@code
 * DebugTarget target = new DebugTarget() {
 *     public int cpuCount() { return vcpus.size(); }
 *     public Regs regs(int cpu) { return vcpus.get(cpu).fd().regs(); }
 *     ...
 * };
 * }</pre>
 */
public interface DebugTarget {

    /** The number of vCPUs; gdb thread {@code n + 1} is vCPU {@code n}. */
    int cpuCount();

    Regs regs(int cpu);

    void setRegs(int cpu, Regs regs);

    Sregs sregs(int cpu);

    void setSregs(int cpu, Sregs sregs);

    /** {@code FpuState.fromKvm(fd.fpu())}. */
    FpuState fpu(int cpu);

    /** {@code fd.setFpu(fpu.toKvm())}. */
    void setFpu(int cpu, FpuState fpu);

    /**
     * Reads guest memory at a virtual address as {@code cpu} sees it: through its page tables
     * when paging is on (jkvm walks them page by page: {@code GuestView}), else physical. Fills a prefix of
     * {@code into} and returns its length: less than {@code into.length} where the range runs
     * into an unmapped page or unbacked memory, 0 when the first byte is.
     */
    int readVirtual(int cpu, long address, byte[] into);

    /** Writes like {@link #readVirtual} reads (ROM included: gdb plants breakpoints there); returns the bytes written. */
    int writeVirtual(int cpu, long address, byte[] from);

    /** Reads guest-physical memory; returns the length of the prefix read. */
    int readPhysical(long address, byte[] into);

    /** Writes guest-physical memory; returns the length of the prefix written. */
    int writePhysical(long address, byte[] from);

    /** {@code KVM_SET_GUEST_DEBUG} on {@code cpu}: {@code fd.setGuestDebug(debug.control(), debug.debugreg())}. */
    void setGuestDebug(int cpu, GuestDebug debug);

    /**
     * Makes {@code cpu} leave {@code KVM_RUN} soon and come back to its loop (the machine's kick:
     * {@code immediate_exit} plus a signal). It then meets {@link GdbStub#checkpoint}, which holds it.
     */
    void kick(int cpu);

    /** Runs a monitor command ({@code monitor ...} in gdb); returns its output text, possibly empty. */
    String monitor(String command);

    /** gdb's {@code kill}: ends the machine as QEMU's {@code quit} would. The machine then calls {@link GdbStub#guestExited}. */
    void kill();

    /**
     * Whether the stub must emulate write watchpoints by single-stepping ({@link WatchEmulation}):
     * true where KVM single-steps the guest but never stops it for a data breakpoint.
     */
    default boolean watchpointsBySingleStep() {
        return false;
    }

    /**
     * What a debugger should know about this host as it attaches, one line each: e.g. that its KVM
     * ignores some of {@code KVM_SET_GUEST_DEBUG}. Logged by the stub at every attach.
     */
    default List<String> attachNotes() {
        return List.of();
    }
}
