package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.jkvm.kvm.abi.Errno;
import dev.jkvm.kvm.abi.KvmCpuid2;
import dev.jkvm.kvm.abi.KvmCpuidEntry2;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One CPUID leaf as KVM exchanges it ({@code struct kvm_cpuid_entry2}).
 *
 * @param function the leaf (EAX input)
 * @param index the sub-leaf (ECX input), meaningful when {@code flags} says so
 * @param flags {@code KVM_CPUID_FLAG_*}
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

    /**
     * Reads a {@code struct kvm_cpuid2} table with {@code request} on {@code fd}, growing the buffer
     * while the kernel says E2BIG, as QEMU does.
     */
    static List<CpuidEntry> readTable(int fd, long request) {
        // 256 to start: KVM's supported table holds 70-80 entries on current hosts (76 here), and
        // each E2BIG retry is another trip into the kernel.
        for (int n = 256; ; n *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(KvmCpuid2.SIZEOF + n * KvmCpuidEntry2.SIZEOF, 8);
                buf.set(JAVA_INT, KvmCpuid2.NENT, n);
                try {
                    Libc.ioctl(fd, request, buf);
                } catch (KvmException e) {
                    if (e.errno() == Errno.E2BIG && n < 4096) {
                        continue;
                    }
                    throw e;
                }
                int count = buf.get(JAVA_INT, KvmCpuid2.NENT);
                List<CpuidEntry> entries = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    entries.add(read(buf.asSlice(KvmCpuid2.SIZEOF + i * KvmCpuidEntry2.SIZEOF,
                            KvmCpuidEntry2.SIZEOF)));
                }
                return entries;
            }
        }
    }

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
