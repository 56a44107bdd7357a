package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.jkvm.kvm.abi.KvmDtable;
import java.lang.foreign.MemorySegment;

/** The GDTR or IDTR of a vCPU ({@code struct kvm_dtable}). */
public record DescriptorTable(long base, int limit) {

    static DescriptorTable read(MemorySegment m, long at) {
        return new DescriptorTable(m.get(JAVA_LONG, at + KvmDtable.BASE),
                Short.toUnsignedInt(m.get(JAVA_SHORT, at + KvmDtable.LIMIT)));
    }

    void write(MemorySegment m, long at) {
        m.set(JAVA_LONG, at + KvmDtable.BASE, base);
        m.set(JAVA_SHORT, at + KvmDtable.LIMIT, (short) limit);
    }
}
