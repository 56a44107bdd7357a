package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmSregs;
import java.lang.foreign.MemorySegment;

/** The special registers of a vCPU ({@code struct kvm_sregs}) without the pending-interrupt bitmap. */
public record Sregs(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
                    Segment tr, Segment ldt, DescriptorTable gdt, DescriptorTable idt,
                    long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase) {

    static Sregs read(MemorySegment m) {
        return new Sregs(Segment.read(m, KvmSregs.CS), Segment.read(m, KvmSregs.DS), Segment.read(m, KvmSregs.ES),
                Segment.read(m, KvmSregs.FS), Segment.read(m, KvmSregs.GS), Segment.read(m, KvmSregs.SS),
                Segment.read(m, KvmSregs.TR), Segment.read(m, KvmSregs.LDT),
                DescriptorTable.read(m, KvmSregs.GDT), DescriptorTable.read(m, KvmSregs.IDT),
                m.get(JAVA_LONG, KvmSregs.CR0), m.get(JAVA_LONG, KvmSregs.CR2), m.get(JAVA_LONG, KvmSregs.CR3),
                m.get(JAVA_LONG, KvmSregs.CR4), m.get(JAVA_LONG, KvmSregs.CR8), m.get(JAVA_LONG, KvmSregs.EFER),
                m.get(JAVA_LONG, KvmSregs.APIC_BASE));
    }

    /** The same registers with another code segment (a vCPU sent to a real-mode entry point, say). */
    public Sregs withCs(Segment newCs) {
        return new Sregs(newCs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase);
    }

    /** Writes every field but the interrupt bitmap, which the caller's buffer keeps. */
    void write(MemorySegment m) {
        cs.write(m, KvmSregs.CS);
        ds.write(m, KvmSregs.DS);
        es.write(m, KvmSregs.ES);
        fs.write(m, KvmSregs.FS);
        gs.write(m, KvmSregs.GS);
        ss.write(m, KvmSregs.SS);
        tr.write(m, KvmSregs.TR);
        ldt.write(m, KvmSregs.LDT);
        gdt.write(m, KvmSregs.GDT);
        idt.write(m, KvmSregs.IDT);
        m.set(JAVA_LONG, KvmSregs.CR0, cr0);
        m.set(JAVA_LONG, KvmSregs.CR2, cr2);
        m.set(JAVA_LONG, KvmSregs.CR3, cr3);
        m.set(JAVA_LONG, KvmSregs.CR4, cr4);
        m.set(JAVA_LONG, KvmSregs.CR8, cr8);
        m.set(JAVA_LONG, KvmSregs.EFER, efer);
        m.set(JAVA_LONG, KvmSregs.APIC_BASE, apicBase);
    }
}
