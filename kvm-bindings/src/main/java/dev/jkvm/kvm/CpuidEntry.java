package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.jkvm.kvm.abi.KvmCpuidEntry2;
import java.lang.foreign.MemorySegment;

/**
 * One CPUID leaf as KVM exchanges it ({@code struct kvm_cpuid_entry2}).
 *
 * @param function the leaf (EAX input)
 * @param index the sub-leaf (ECX input), meaningful when {@code flags} says so
 * @param flags {@code KVM_CPUID_FLAG_*}
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

    static CpuidEntry read(MemorySegment s) {
        return new CpuidEntry(s.get(JAVA_INT, KvmCpuidEntry2.FUNCTION), s.get(JAVA_INT, KvmCpuidEntry2.INDEX),
                s.get(JAVA_INT, KvmCpuidEntry2.FLAGS), s.get(JAVA_INT, KvmCpuidEntry2.EAX),
                s.get(JAVA_INT, KvmCpuidEntry2.EBX), s.get(JAVA_INT, KvmCpuidEntry2.ECX),
                s.get(JAVA_INT, KvmCpuidEntry2.EDX));
    }

    void write(MemorySegment s) {
        s.set(JAVA_INT, KvmCpuidEntry2.FUNCTION, function);
        s.set(JAVA_INT, KvmCpuidEntry2.INDEX, index);
        s.set(JAVA_INT, KvmCpuidEntry2.FLAGS, flags);
        s.set(JAVA_INT, KvmCpuidEntry2.EAX, eax);
        s.set(JAVA_INT, KvmCpuidEntry2.EBX, ebx);
        s.set(JAVA_INT, KvmCpuidEntry2.ECX, ecx);
        s.set(JAVA_INT, KvmCpuidEntry2.EDX, edx);
    }
}
