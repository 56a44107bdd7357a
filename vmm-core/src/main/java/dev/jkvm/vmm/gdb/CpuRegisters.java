package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;

/**
 * Everything gdb's x86-64 register set is built from: the general, special and FPU/SSE registers
 * of one vCPU.
 *
 * <pre>{@code
 * CpuRegisters now = new CpuRegisters(target.regs(0), target.sregs(0), target.fpu(0));
 * }</pre>
 */
record CpuRegisters(Regs regs, Sregs sregs, FpuState fpu) {

    /** Reads the three parts from the target. */
    static CpuRegisters of(DebugTarget target, int cpu) {
        return new CpuRegisters(target.regs(cpu), target.sregs(cpu), target.fpu(cpu));
    }

    /** Writes back to the target the parts that differ from {@code before}. */
    void writeChanges(DebugTarget target, int cpu, CpuRegisters before) {
        if (!regs.equals(before.regs)) {
            target.setRegs(cpu, regs);
        }
        if (!sregs.equals(before.sregs)) {
            target.setSregs(cpu, sregs);
        }
        if (!fpu.equals(before.fpu)) {
            target.setFpu(cpu, fpu);
        }
    }
}
