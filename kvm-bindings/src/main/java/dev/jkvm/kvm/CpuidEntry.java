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
                buf.asSlice(KvmCpuid2.SIZEOF).fill(UNWRITTEN);
                try {
                    Libc.ioctl(fd, request, buf);
                } catch (KvmException e) {
                    if (e.errno() == Errno.E2BIG && n < 4096) {
                        continue;
                    }
                    throw e;
                }
                return entriesOf(buf, writtenCount(buf, n));
            }
        }
    }

    /** The bytes of an entry the kernel did not write: no real entry has function, index and flags all ones. */
    private static final byte UNWRITTEN = (byte) 0xff;

    /**
     * How many entries a successful read left in {@code buf} (filled with {@link #UNWRITTEN} before
     * it, for {@code n} entries). Before Linux 6.4 ("KVM: x86: Update KVM_GET_CPUID2 to return valid
     * entry count", 2023) KVM_GET_CPUID2 left the count as the caller gave it when it succeeded
     * (Debian 12's 6.1 in the nested VM: 256 entries read back for 30 set), so a count still
     * {@code n} is checked against the entries themselves: the first one still unwritten ends the table.
     */
    static int writtenCount(MemorySegment buf, int n) {
        int count = buf.get(JAVA_INT, KvmCpuid2.NENT);
        if (count != n) {
            return count;
        }
        for (int i = 0; i < n; i++) {
            long at = KvmCpuid2.SIZEOF + i * KvmCpuidEntry2.SIZEOF;
            if (buf.get(JAVA_INT, at + KvmCpuidEntry2.FUNCTION) == -1 && buf.get(JAVA_INT, at + KvmCpuidEntry2.INDEX) == -1
                    && buf.get(JAVA_INT, at + KvmCpuidEntry2.FLAGS) == -1) {
                return i;
            }
        }
        return n;
    }

    /** The entries of the {@code struct kvm_cpuid2} at {@code buf}, as many as its count says. */
    static List<CpuidEntry> entriesOf(MemorySegment buf) {
        return entriesOf(buf, buf.get(JAVA_INT, KvmCpuid2.NENT));
    }

    /** The first {@code count} entries of the {@code struct kvm_cpuid2} at {@code buf}. */
    private static List<CpuidEntry> entriesOf(MemorySegment buf, int count) {
        int[] table = new int[count * INTS];
        MemorySegment.copy(buf, JAVA_INT, KvmCpuid2.SIZEOF, table, 0, table.length);
        List<CpuidEntry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            entries.add(of(table, i * INTS));
        }
        return entries;
    }

    /**
     * The ints of one {@code struct kvm_cpuid_entry2} (seven fields, three of padding). A table is
     * copied between native memory and an int array in one go: field by field, through the memory
     * segment's var handles, it was most of the CPU set-up's time at an interpreted start-up.
     */
    private static final int INTS = (int) (KvmCpuidEntry2.SIZEOF / Integer.BYTES);

    /** The entry at int {@code at} of {@code table}. */
    private static CpuidEntry of(int[] table, int at) {
        return new CpuidEntry(table[at + (int) (KvmCpuidEntry2.FUNCTION / 4)], table[at + (int) (KvmCpuidEntry2.INDEX / 4)],
                table[at + (int) (KvmCpuidEntry2.FLAGS / 4)], table[at + (int) (KvmCpuidEntry2.EAX / 4)],
                table[at + (int) (KvmCpuidEntry2.EBX / 4)], table[at + (int) (KvmCpuidEntry2.ECX / 4)],
                table[at + (int) (KvmCpuidEntry2.EDX / 4)]);
    }

    /** Writes {@code entries} as the entries of a {@code struct kvm_cpuid2} at {@code buf} (its count is not written). */
    static void writeEntries(List<CpuidEntry> entries, MemorySegment buf) {
        int[] table = new int[entries.size() * INTS]; // the padding stays zero
        for (int i = 0; i < entries.size(); i++) {
            CpuidEntry e = entries.get(i);
            int at = i * INTS;
            table[at + (int) (KvmCpuidEntry2.FUNCTION / 4)] = e.function;
            table[at + (int) (KvmCpuidEntry2.INDEX / 4)] = e.index;
            table[at + (int) (KvmCpuidEntry2.FLAGS / 4)] = e.flags;
            table[at + (int) (KvmCpuidEntry2.EAX / 4)] = e.eax;
            table[at + (int) (KvmCpuidEntry2.EBX / 4)] = e.ebx;
            table[at + (int) (KvmCpuidEntry2.ECX / 4)] = e.ecx;
            table[at + (int) (KvmCpuidEntry2.EDX / 4)] = e.edx;
        }
        MemorySegment.copy(table, 0, buf, JAVA_INT, KvmCpuid2.SIZEOF, table.length);
    }
}
