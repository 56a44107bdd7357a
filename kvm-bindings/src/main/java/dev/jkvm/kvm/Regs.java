package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmRegs;
import java.lang.foreign.MemorySegment;

/** The general registers of a vCPU ({@code struct kvm_regs}). */
public record Regs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                   long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                   long rip, long rflags) {

    static Regs read(MemorySegment s) {
        return new Regs(s.get(JAVA_LONG, KvmRegs.RAX), s.get(JAVA_LONG, KvmRegs.RBX), s.get(JAVA_LONG, KvmRegs.RCX),
                s.get(JAVA_LONG, KvmRegs.RDX), s.get(JAVA_LONG, KvmRegs.RSI), s.get(JAVA_LONG, KvmRegs.RDI),
                s.get(JAVA_LONG, KvmRegs.RSP), s.get(JAVA_LONG, KvmRegs.RBP), s.get(JAVA_LONG, KvmRegs.R8),
                s.get(JAVA_LONG, KvmRegs.R9), s.get(JAVA_LONG, KvmRegs.R10), s.get(JAVA_LONG, KvmRegs.R11),
                s.get(JAVA_LONG, KvmRegs.R12), s.get(JAVA_LONG, KvmRegs.R13), s.get(JAVA_LONG, KvmRegs.R14),
                s.get(JAVA_LONG, KvmRegs.R15), s.get(JAVA_LONG, KvmRegs.RIP), s.get(JAVA_LONG, KvmRegs.RFLAGS));
    }

    void write(MemorySegment s) {
        s.set(JAVA_LONG, KvmRegs.RAX, rax);
        s.set(JAVA_LONG, KvmRegs.RBX, rbx);
        s.set(JAVA_LONG, KvmRegs.RCX, rcx);
        s.set(JAVA_LONG, KvmRegs.RDX, rdx);
        s.set(JAVA_LONG, KvmRegs.RSI, rsi);
        s.set(JAVA_LONG, KvmRegs.RDI, rdi);
        s.set(JAVA_LONG, KvmRegs.RSP, rsp);
        s.set(JAVA_LONG, KvmRegs.RBP, rbp);
        s.set(JAVA_LONG, KvmRegs.R8, r8);
        s.set(JAVA_LONG, KvmRegs.R9, r9);
        s.set(JAVA_LONG, KvmRegs.R10, r10);
        s.set(JAVA_LONG, KvmRegs.R11, r11);
        s.set(JAVA_LONG, KvmRegs.R12, r12);
        s.set(JAVA_LONG, KvmRegs.R13, r13);
        s.set(JAVA_LONG, KvmRegs.R14, r14);
        s.set(JAVA_LONG, KvmRegs.R15, r15);
        s.set(JAVA_LONG, KvmRegs.RIP, rip);
        s.set(JAVA_LONG, KvmRegs.RFLAGS, rflags);
    }

    /** The same registers with a different instruction pointer. */
    public Regs withRip(long newRip) {
        return new Regs(rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, newRip, rflags);
    }
}
