package dev.jkvm.vmm.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The walk over page tables the test writes into guest memory itself (no KVM needed). */
class PageWalkerTest {

    private static final long CR0_PG_PE = 0x8000_0001L;
    private static final long CR4_PAE = 1 << 5;
    private static final long EFER_LME_LMA = (1 << 8) | (1 << 10);
    private final GuestMemory memory = new GuestMemory(MemoryMap.pc(16 * MemoryMap.MIB, 0), new byte[0]);

    @AfterEach
    void close() {
        memory.close();
    }

    private void entry(long address, long value) {
        memory.write(address, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    /** PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000: a 2 MiB page at VA 2 MiB, a 4 KiB page at VA 0x5000 via PT 0x4000. */
    private PageWalker fourLevel() {
        long rw = PageWalker.P | PageWalker.RW;
        entry(0x1000, 0x2000 | rw | PageWalker.US);
        entry(0x2000, 0x3000 | rw | PageWalker.US);
        entry(0x3000 + 8, 0x600000 | rw | PageWalker.PS);      // VA 0x200000 -> 0x600000 (2 MiB)
        entry(0x3000, 0x4000 | rw | PageWalker.US);
        entry(0x4000 + 5 * 8, 0x9000 | PageWalker.P | PageWalker.US); // VA 0x5000 -> 0x9000, read-only
        return new PageWalker(memory, CR0_PG_PE, 0x1000, CR4_PAE, EFER_LME_LMA);
    }

    @Test
    void fourLevelWalkWithLargeAndSmallPages() {
        PageWalker w = fourLevel();
        assertEquals(PageWalker.Mode.FOUR_LEVEL, w.mode());
        PageWalker.Walk big = w.walk(0x212345);
        assertEquals(0x612345L, big.gpa().orElseThrow());
        assertEquals(2L << 20, big.pageSize());
        assertEquals(List.of("PML4E", "PDPTE", "PDE"), big.steps().stream().map(PageWalker.Step::level).toList());
        PageWalker.Walk small = w.walk(0x5abc);
        assertEquals(0x9abcL, small.gpa().orElseThrow());
        assertEquals(List.of("PML4E", "PDPTE", "PDE", "PTE"), small.steps().stream().map(PageWalker.Step::level).toList());
        assertEquals(0x4000 + 5 * 8, small.steps().get(3).entryAddress());
        assertTrue(w.walk(0x6000).gpa().isEmpty());
        assertTrue(w.walk(0x40000000L).gpa().isEmpty()); // PDPTE 1 not present
    }

    @Test
    void mappingsCarryTheNarrowestRights() {
        List<String> seen = new ArrayList<>();
        fourLevel().forEachMapping((gva, size, gpa, e) -> seen.add(Long.toHexString(gva) + "->" + Long.toHexString(gpa)
                + " " + size + " " + PageWalker.flagString(e)));
        // the 4 KiB page is user but read-only (its PTE says so); the large page writable, supervisor only (its PDE)
        assertEquals(List.of("5000->9000 4096 -------U-", "200000->600000 2097152 --P-----W"), seen);
    }

    @Test
    void pagingOffIsIdentity() {
        PageWalker w = new PageWalker(memory, 1, 0, 0, 0);
        assertEquals(0x1234L, w.walk(0x1234).gpa().orElseThrow());
    }

    @Test
    void tablesOutsideGuestMemoryFaultInsteadOfReadingElsewhere() {
        PageWalker w = new PageWalker(memory, CR0_PG_PE, 0x7fff_f000_0000L, CR4_PAE, EFER_LME_LMA);
        assertTrue(w.walk(0x1000).gpa().isEmpty());
    }

    @Test
    void aPml4WhoseEntriesPointAtItselfIsWalkedBoundedAndSaysItWasCut() {
        // every entry of every level is the PML4 itself: about 2^36 leaves if walked to the end
        for (int i = 0; i < 512; i++) {
            entry(0x1000 + i * 8L, 0x1000 | PageWalker.P | PageWalker.RW);
        }
        PageWalker w = new PageWalker(memory, CR0_PG_PE, 0x1000, CR4_PAE, EFER_LME_LMA);
        long[] leaves = {0};
        PageWalker.WalkSummary s = w.forEachMapping((gva, size, gpa, e) -> leaves[0]++);
        assertEquals(s.leaves(), leaves[0]);
        assertTrue(s.tables() <= PageWalker.Limits.DEFAULT.maxTables(), "tables " + s.tables());
        assertTrue(leaves[0] <= PageWalker.Limits.DEFAULT.maxLeaves(), "leaves " + leaves[0]);
        assertTrue(s.cut().orElseThrow().contains("cyclic"), s.cut().toString());

        PageWalker.WalkSummary few = w.forEachMapping((gva, size, gpa, e) -> { }, new PageWalker.Limits(100, 1000));
        assertEquals(1000, few.leaves());
        assertTrue(few.cut().orElseThrow().contains("1000 mappings"), few.cut().toString());
    }

    @Test
    void aWalkWithinTheLimitsIsNotCut() {
        assertTrue(fourLevel().forEachMapping((gva, size, gpa, e) -> { }).cut().isEmpty());
    }
}
