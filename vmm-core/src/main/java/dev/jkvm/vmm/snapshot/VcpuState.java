package dev.jkvm.vmm.snapshot;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import dev.jkvm.kvm.CpuidEntry;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmDebugregs;
import dev.jkvm.kvm.abi.KvmFpu;
import dev.jkvm.kvm.abi.KvmLapicState;
import dev.jkvm.kvm.abi.KvmRegs;
import dev.jkvm.kvm.abi.KvmSregs;
import dev.jkvm.kvm.abi.KvmVcpuEvents;
import dev.jkvm.kvm.abi.KvmXcrs;
import dev.jkvm.kvm.abi.KvmXsave;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Everything KVM holds for one vCPU, each struct as KVM lays it out: registers, special registers
 * (with the pending-interrupt bitmap), FPU and XSAVE area, XCRs, the MSRs KVM lists, the local
 * APIC page, pending events, debug registers and the MP state (a vCPU waiting for SIPI stays
 * waiting), and the CPUID table jkvm gave the vCPU (a restore checks it, as it checks the machine's
 * description: a guest must not find another CPU under it). {@code xsave} and {@code xcrs} are
 * empty where KVM has neither.
 */
public record VcpuState(byte[] regs, byte[] sregs, byte[] fpu, byte[] xsave, byte[] xcrs, int[] msrIndices,
                        long[] msrValues, byte[] lapic, byte[] events, byte[] debugRegs, int mpState,
                        List<CpuidEntry> cpuid) {

    public VcpuState {
        if (msrIndices.length != msrValues.length) {
            throw new IllegalArgumentException(msrIndices.length + " MSR indices, " + msrValues.length + " values");
        }
    }

    /**
     * Checks every struct's size against this host's ABI and the capabilities, so a restore never
     * fails half-way on a struct KVM would refuse.
     *
     * @throws IllegalArgumentException saying which part is wrong
     */
    public void validate(Capabilities caps) {
        size("regs", regs, KvmRegs.SIZEOF);
        size("sregs", sregs, KvmSregs.SIZEOF);
        size("fpu", fpu, KvmFpu.SIZEOF);
        size("events", events, KvmVcpuEvents.SIZEOF);
        size("debug registers", debugRegs, KvmDebugregs.SIZEOF);
        if (xsave.length > 0 || caps.xsave()) {
            size("xsave", xsave, KvmXsave.SIZEOF);
        }
        if (xcrs.length > 0 || caps.xcrs()) {
            size("xcrs", xcrs, KvmXcrs.SIZEOF);
        }
        if (lapic.length > 0 || caps.lapic()) {
            size("lapic", lapic, KvmLapicState.SIZEOF);
        }
    }

    private static void size(String what, byte[] b, long expected) {
        if (b.length != expected) {
            throw new IllegalArgumentException("vCPU " + what + " of " + b.length + " bytes, not " + expected);
        }
    }

    /** What KVM can save for a vCPU on this host. */
    public record Capabilities(boolean xsave, boolean xcrs, boolean lapic) {
    }

    /**
     * Reads the state of {@code fd}, on the vCPU's own thread. First finishes an I/O exit the
     * vCPU may have left pending ({@code KVM_RUN} with {@code immediate_exit}: KVM completes the
     * instruction and returns at once), so the registers are those after the instruction.
     *
     * @param msrs the MSRs to read, all of which KVM reads on this host
     * @param ran whether the vCPU has entered the guest (a new one has nothing pending)
     * @param cpuid the CPUID table jkvm set for the vCPU
     */
    public static VcpuState read(VcpuFd fd, int[] msrs, Capabilities caps, boolean ran, List<CpuidEntry> cpuid) {
        if (ran) {
            settle(fd);
        }
        long[] values = fd.msrs(msrs);
        if (values.length != msrs.length) {
            throw new IllegalStateException(String.format("KVM_GET_MSRS stopped at MSR 0x%x", msrs[values.length]));
        }
        return new VcpuState(fd.regsRaw(), fd.sregsRaw(), fd.fpu(),
                caps.xsave() ? fd.xsave() : new byte[0], caps.xcrs() ? fd.xcrs() : new byte[0],
                msrs.clone(), values, caps.lapic() ? fd.lapic() : new byte[0], fd.vcpuEvents(), fd.debugRegs(),
                fd.mpState(), List.copyOf(cpuid));
    }

    /**
     * Completes an I/O or MMIO exit left pending, so no instruction completion of the old state
     * runs after a restore (KVM applies it at the next {@code KVM_RUN}). On the vCPU's thread.
     */
    public static void settle(VcpuFd fd) {
        fd.setImmediateExit(true);
        fd.run(); // returns at once (EINTR); the vCPU's loop clears immediate_exit before its next entry
    }

    /**
     * Puts the state into {@code fd} (on the vCPU's own thread), in QEMU's order: registers,
     * XSAVE/FPU, XCRs, special registers, MSRs, MP state, LAPIC, events, debug registers.
     *
     * @param refused told of each MSR KVM would not take (the rest are still set)
     * @param ran whether the vCPU has entered the guest (a new one has nothing pending)
     */
    public void writeTo(VcpuFd fd, IntConsumer refused, boolean ran) {
        if (ran) {
            settle(fd);
        }
        fd.setRegsRaw(regs);
        if (xsave.length > 0) {
            fd.setXsave(xsave);
        } else {
            fd.setFpu(fpu);
        }
        if (xcrs.length > 0) {
            fd.setXcrs(xcrs);
        }
        fd.setSregsRaw(sregs);
        int done = 0;
        while (done < msrIndices.length) {
            int n = fd.setMsrs(Arrays.copyOfRange(msrIndices, done, msrIndices.length),
                    Arrays.copyOfRange(msrValues, done, msrValues.length));
            done += n;
            if (done < msrIndices.length) {
                refused.accept(msrIndices[done]);
                done++;
            }
        }
        setTsc(fd);
        fd.setMpState(mpState);
        if (lapic.length > 0) {
            fd.setLapic(lapic);
        }
        fd.setVcpuEvents(withValidFlags(events));
        fd.setDebugRegs(debugRegs);
    }

    private static final int IA32_TSC = 0x10;
    /** Far enough from any TSC KVM expects (2^50 cycles: days at any clock rate). */
    private static final long FAR_CYCLES = 1L << 50;

    /**
     * The saved TSC again, after a value far from it. KVM reads a host write of IA32_TSC within a
     * second of the TSC it expects (a new vCPU's: 0 at its creation and counting since) as vCPUs
     * being synchronized, and keeps its own offset where the host's TSC is stable: a guest saved
     * within a second of its start came back with its TSC gone back (918,357,286 then 308,018,486
     * in the nested VM once its TSC was the clock). A write far from what KVM expects is taken as
     * written, and so is the saved value after it.
     */
    private void setTsc(VcpuFd fd) {
        for (int i = 0; i < msrIndices.length; i++) {
            if (msrIndices[i] == IA32_TSC) {
                fd.setMsrs(new int[] {IA32_TSC}, new long[] {msrValues[i] + FAR_CYCLES});
                fd.setMsrs(new int[] {IA32_TSC}, new long[] {msrValues[i]});
                return;
            }
        }
    }

    /** The saved events, with the flags that make KVM take the NMI, SIPI vector and interrupt shadow too. */
    private static byte[] withValidFlags(byte[] events) {
        byte[] e = events.clone();
        MemorySegment s = MemorySegment.ofArray(e);
        int flags = s.get(JAVA_INT_UNALIGNED, KvmVcpuEvents.FLAGS);
        s.set(JAVA_INT_UNALIGNED, KvmVcpuEvents.FLAGS, flags | KvmConstants.KVM_VCPUEVENT_VALID_NMI_PENDING
                | KvmConstants.KVM_VCPUEVENT_VALID_SIPI_VECTOR | KvmConstants.KVM_VCPUEVENT_VALID_SHADOW);
        return e;
    }
}
