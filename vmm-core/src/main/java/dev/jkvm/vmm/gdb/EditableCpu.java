package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;

/**
 * A vCPU's registers laid open as plain fields, so the register table can read and write them
 * one by one; built from and turned back into the immutable {@link CpuRegisters}.
 */
final class EditableCpu {

    /** rax rbx rcx rdx rsi rdi rbp rsp r8..r15: gdb's order, not {@link Regs}'s. */
    final long[] gpr = new long[16];
    long rip;
    long rflags;
    /** cs ss ds es fs gs: gdb's order. */
    final Segment[] segments = new Segment[6];
    long cr0;
    long cr2;
    long cr3;
    long cr4;
    long cr8;
    long efer;
    final byte[] st;
    int fcw;
    int fsw;
    int ftag;
    int fop;
    long lastIp;
    long lastDp;
    final byte[] xmm;
    int mxcsr;
    private final Sregs original;

    EditableCpu(CpuRegisters c) {
        Regs r = c.regs();
        long[] g = {r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rbp(), r.rsp(),
            r.r8(), r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15()};
        System.arraycopy(g, 0, gpr, 0, 16);
        rip = r.rip();
        rflags = r.rflags();
        Sregs s = c.sregs();
        original = s;
        segments[0] = s.cs();
        segments[1] = s.ss();
        segments[2] = s.ds();
        segments[3] = s.es();
        segments[4] = s.fs();
        segments[5] = s.gs();
        cr0 = s.cr0();
        cr2 = s.cr2();
        cr3 = s.cr3();
        cr4 = s.cr4();
        cr8 = s.cr8();
        efer = s.efer();
        FpuState f = c.fpu();
        st = f.st();
        fcw = f.fcw();
        fsw = f.fsw();
        ftag = f.fullTagWord();
        fop = f.lastOpcode();
        lastIp = f.lastIp();
        lastDp = f.lastDp();
        xmm = f.xmm();
        mxcsr = f.mxcsr();
    }

    /** Sets a segment selector; in real mode the base follows it, as the CPU would load it. */
    void setSelector(int index, int selector) {
        Segment s = segments[index];
        long base = (cr0 & 1) == 0 ? (long) selector << 4 : s.base();
        segments[index] = new Segment(base, s.limit(), selector, s.type(), s.present(), s.dpl(), s.db(), s.s(),
                s.l(), s.g(), s.avl(), s.unusable());
    }

    void setBase(int index, long base) {
        Segment s = segments[index];
        segments[index] = new Segment(base, s.limit(), s.selector(), s.type(), s.present(), s.dpl(), s.db(), s.s(),
                s.l(), s.g(), s.avl(), s.unusable());
    }

    CpuRegisters toRegisters() {
        Regs r = new Regs(gpr[0], gpr[1], gpr[2], gpr[3], gpr[4], gpr[5], gpr[7], gpr[6],
                gpr[8], gpr[9], gpr[10], gpr[11], gpr[12], gpr[13], gpr[14], gpr[15], rip, rflags);
        Sregs s = new Sregs(segments[0], segments[2], segments[3], segments[4], segments[5], segments[1],
                original.tr(), original.ldt(), original.gdt(), original.idt(), cr0, cr2, cr3, cr4, cr8, efer,
                original.apicBase());
        FpuState f = new FpuState(st, fcw, fsw, FpuState.abridge(ftag), fop, lastIp, lastDp, xmm, mxcsr);
        return new CpuRegisters(r, s, f);
    }
}
