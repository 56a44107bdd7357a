package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.kvm.abi.KvmCpuid2;
import dev.jkvm.kvm.abi.KvmCpuidEntry2;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code struct kvm_cpuid2} as jkvm writes and reads it, copied as one int array. */
class CpuidEntryTest {

    private static final List<CpuidEntry> ENTRIES = List.of(
            new CpuidEntry(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
            new CpuidEntry(7, 1, 1, -1, 0x80000000, 0x12345678, 0x7fffffff),
            new CpuidEntry(0x8000_0008, 0, 0, 0x3028, 0, 0, 0));

    @Test
    void everyFieldLandsAtItsOffsetAndThePaddingStaysZero() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(KvmCpuid2.SIZEOF + ENTRIES.size() * KvmCpuidEntry2.SIZEOF, 8);
            CpuidEntry.writeEntries(ENTRIES, buf);
            for (int i = 0; i < ENTRIES.size(); i++) {
                CpuidEntry e = ENTRIES.get(i);
                long at = KvmCpuid2.SIZEOF + i * KvmCpuidEntry2.SIZEOF;
                assertEquals(e.function(), buf.get(JAVA_INT, at + KvmCpuidEntry2.FUNCTION));
                assertEquals(e.index(), buf.get(JAVA_INT, at + KvmCpuidEntry2.INDEX));
                assertEquals(e.flags(), buf.get(JAVA_INT, at + KvmCpuidEntry2.FLAGS));
                assertEquals(e.eax(), buf.get(JAVA_INT, at + KvmCpuidEntry2.EAX));
                assertEquals(e.ebx(), buf.get(JAVA_INT, at + KvmCpuidEntry2.EBX));
                assertEquals(e.ecx(), buf.get(JAVA_INT, at + KvmCpuidEntry2.ECX));
                assertEquals(e.edx(), buf.get(JAVA_INT, at + KvmCpuidEntry2.EDX));
                for (long pad = KvmCpuidEntry2.EDX + 4; pad < KvmCpuidEntry2.SIZEOF; pad += 4) {
                    assertEquals(0, buf.get(JAVA_INT, at + pad), "padding at " + pad);
                }
            }
            assertEquals(0, buf.get(JAVA_INT, KvmCpuid2.NENT), "the count is the caller's");
        }
    }

    @Test
    void aTableReadsBackAsItWasWritten() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(KvmCpuid2.SIZEOF + 8 * KvmCpuidEntry2.SIZEOF, 8);
            CpuidEntry.writeEntries(ENTRIES, buf);
            buf.set(JAVA_INT, KvmCpuid2.NENT, ENTRIES.size());
            assertEquals(ENTRIES, CpuidEntry.entriesOf(buf));
            buf.set(JAVA_INT, KvmCpuid2.NENT, 0);
            assertEquals(List.of(), CpuidEntry.entriesOf(buf));
        }
    }

    /** Linux before 6.4 leaves the count as given when KVM_GET_CPUID2 succeeds: the unwritten entries end the table. */
    @Test
    void aCountTheKernelLeftAsGivenIsReadFromTheEntries() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 8;
            MemorySegment buf = arena.allocate(KvmCpuid2.SIZEOF + n * KvmCpuidEntry2.SIZEOF, 8);
            buf.asSlice(KvmCpuid2.SIZEOF).fill((byte) 0xff);
            buf.set(JAVA_INT, KvmCpuid2.NENT, n);
            CpuidEntry.writeEntries(ENTRIES, buf); // as the kernel writes what it holds
            assertEquals(ENTRIES.size(), CpuidEntry.writtenCount(buf, n), "the count left at " + n);
            buf.set(JAVA_INT, KvmCpuid2.NENT, 1);
            assertEquals(1, CpuidEntry.writtenCount(buf, n), "a count the kernel set is the count");
            CpuidEntry.writeEntries(java.util.Collections.nCopies(n, ENTRIES.getFirst()), buf);
            buf.set(JAVA_INT, KvmCpuid2.NENT, n);
            assertEquals(n, CpuidEntry.writtenCount(buf, n), "a full table");
        }
    }
}
