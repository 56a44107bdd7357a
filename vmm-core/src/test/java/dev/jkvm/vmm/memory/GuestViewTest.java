package dev.jkvm.vmm.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.Sregs;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guest view over page tables the test lays out in a GuestMemory itself (no KVM needed). */
class GuestViewTest {

    private static final long CR0_PG_PE = 0x8000_0001L;
    private static final long CR4_PAE = 1 << 5;
    private static final long EFER_LME_LMA = (1 << 8) | (1 << 10);
    private static final long RAM = 16 * MemoryMap.MIB;
    private static final byte[] ROM = rom();

    private final GuestMemory memory = new GuestMemory(MemoryMap.pc(RAM, ROM.length), ROM);
    private final Sregs longMode = sregs(CR0_PG_PE, 0x1000, CR4_PAE, EFER_LME_LMA);
    private final GuestView view = new GuestView(memory, cpu -> longMode);

    @AfterEach
    void close() {
        memory.close();
    }

    /** 64 KiB of ROM whose byte i is i (mod 256): the last 64 KiB below 1 MiB alias it. */
    private static byte[] rom() {
        byte[] b = new byte[64 << 10];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    private static Sregs sregs(long cr0, long cr3, long cr4, long efer) {
        return new Sregs(null, null, null, null, null, null, null, null, null, null, cr0, 0, cr3, cr4, 0, efer, 0);
    }

    /**
     * PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000: VA 0x5000 -> 0x9000, VA 0x6000 ->
     * 0x20000 (far from it), VA 0x7000 not mapped, VA 0x8000 -> 0xfee00000 (the local APIC: no memory).
     */
    private void layOutTables() {
        long rw = PageWalker.P | PageWalker.RW;
        memory.writeU64(0x1000, 0x2000 | rw);
        memory.writeU64(0x2000, 0x3000 | rw);
        memory.writeU64(0x3000, 0x4000 | rw);
        memory.writeU64(0x4000 + 5 * 8, 0x9000 | rw);
        memory.writeU64(0x4000 + 6 * 8, 0x20000 | rw);
        memory.writeU64(0x4000 + 8 * 8, 0xfee00000L | rw);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aVirtualReadCrossingAPageBoundaryTakesEachPageFromItsOwnEntry() {
        layOutTables();
        memory.write(0x9ffc, ascii("ABCD"));
        memory.write(0x20000, ascii("EFGH"));
        assertArrayEquals(ascii("ABCDEFGH"), view.readVirtual(0, 0x5ffc, 8));
        assertEquals(0x4847464544434241L, view.readVirtualUnsigned(view.walker(0), 0x5ffc, 8));
        byte[] prefix = new byte[8];
        assertEquals(8, view.readVirtualPrefix(0, 0x5ffc, prefix));
        assertArrayEquals(ascii("ABCDEFGH"), prefix);
    }

    @Test
    void anUnmappedPageFailsTheWholeReadAndEndsAPrefix() {
        layOutTables();
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> view.readVirtual(0, 0x6ff0, 32));
        assertTrue(e.virtual());
        assertEquals(0x7000, e.address());
        assertEquals("guest-virtual 0x7000 is not mapped", e.getMessage());
        assertEquals(16, view.readVirtualPrefix(0, 0x6ff0, new byte[32]));
        assertEquals(0, view.readVirtualPrefix(0, 0x7000, new byte[1]));
    }

    @Test
    void aPageMappedOntoMmioIsNotReadAsMemory() {
        layOutTables();
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> view.readVirtual(0, 0x8000, 4));
        assertFalse(e.virtual());
        assertEquals(0xfee00000L, e.address());
        assertEquals(0, view.readVirtualPrefix(0, 0x8000, new byte[4]));
        assertEquals(0, view.writeVirtualPrefix(0, 0x8000, new byte[4]));
    }

    @Test
    void aVirtualWriteCrossingAPageLandsOnBothPages() {
        layOutTables();
        assertEquals(4, view.writeVirtualPrefix(0, 0x5ffe, ascii("wxyz")));
        assertArrayEquals(ascii("wx"), memory.read(0x9ffe, 2));
        assertArrayEquals(ascii("yz"), memory.read(0x20000, 2));
        assertEquals(2, view.writeVirtualPrefix(0, 0x6ffe, ascii("!!??")), "stops at the unmapped page");
    }

    @Test
    void withPagingOffVirtualIsPhysical() {
        GuestView real = view.withRegisters(cpu -> sregs(1, 0, 0, 0));
        memory.write(0x7000, ascii("real"));
        assertArrayEquals(ascii("real"), real.readVirtual(0, 0x7000, 4));
        assertEquals(PageWalker.Mode.NONE, real.walker(0).mode());
    }

    @Test
    void physicalReadsOutsideMemoryAreOneClearError() {
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> view.readPhysical(RAM - 4, 8));
        assertEquals(String.format("guest-physical range 0x%x+0x8 is not backed by memory", RAM - 4), e.getMessage());
        assertThrows(GuestMemoryException.class, () -> view.readPhysical(0xa0000, 1)); // the VGA hole
        assertThrows(GuestMemoryException.class, () -> view.readPhysical(-8, 8));
        assertThrows(GuestMemoryException.class, () -> memory.readU64(RAM - 4));
        assertThrows(IllegalArgumentException.class, () -> view.readPhysical(0, -1));
        byte[] into = new byte[8];
        assertEquals(4, view.readPhysicalPrefix(RAM - 4, into));
        assertEquals(0, view.readPhysicalPrefix(0xa0000, into));
    }

    @Test
    void aReadLongerThanTheGuestsMemoryIsRefusedBeforeAnythingIsAllocated() {
        layOutTables();
        GuestMemoryException p = assertThrows(GuestMemoryException.class, () -> view.readPhysical(0, Integer.MAX_VALUE));
        assertTrue(p.getMessage().contains("longer than the guest's memory"), p.getMessage());
        GuestMemoryException v = assertThrows(GuestMemoryException.class, () -> view.readVirtual(0, 0x5000, Integer.MAX_VALUE));
        assertTrue(v.getMessage().contains("longer than the guest's memory"), v.getMessage());
        // within the bound, the first page that is not mapped fails it before the bytes are allocated
        assertThrows(GuestMemoryException.class, () -> view.readVirtual(0, 0x5000, (int) (RAM / 2)));
    }

    @Test
    void aWholeWriteThatDoesNotFitWritesNothing() {
        memory.write(RAM - 4, ascii("keep"));
        assertThrows(GuestMemoryException.class, () -> view.writePhysical(RAM - 4, ascii("overflow")));
        assertArrayEquals(ascii("keep"), memory.read(RAM - 4, 4));
        assertEquals(4, view.writePhysicalPrefix(RAM - 4, ascii("12345678")));
        assertArrayEquals(ascii("1234"), memory.read(RAM - 4, 4));
    }

    @Test
    void physicalRangesCrossFromTheBiosAliasIntoRam() {
        memory.write(0x100000, ascii("ram!"));
        byte[] b = view.readPhysical(0xffffc, 8);
        byte[] romTail = Arrays.copyOfRange(ROM, ROM.length - 4, ROM.length);
        assertArrayEquals(romTail, Arrays.copyOf(b, 4));
        assertArrayEquals(ascii("ram!"), Arrays.copyOfRange(b, 4, 8));
    }

    @Test
    void littleEndianWordsAreReadAndWrittenInPlace() {
        memory.writeU64(0x500, 0x1122334455667788L);
        assertEquals(0x88, memory.readU8(0x500));
        assertEquals(0x7788, memory.readU16(0x500));
        assertEquals(0x55667788L, memory.readU32(0x500));
        assertEquals(0x1122334455667788L, memory.readU64(0x500));
        memory.writeU32(0x504, 0xfedcba98);
        assertEquals(0xfedcba98L, memory.readU32(0x504), "unsigned");
        assertEquals(0xfedcba9855667788L, memory.readUnsigned(0x500, 8));
        memory.writeU16(0x502, 0xabcd);
        assertEquals(0xfedcba98abcd7788L, memory.readU64(0x500));
        assertEquals(0x0201, GuestMemory.littleEndian(new byte[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> memory.readUnsigned(0x500, 3));
    }

    @Test
    void cyclicTablesEndAVirtualReadAsAnyOtherWalk() {
        // every PML4 entry points at the PML4: a walk still reads one entry per level, and the
        // fifth level (the PML4 again, as a page table) maps the page at the table's own address
        for (int i = 0; i < 512; i++) {
            memory.writeU64(0x1000 + i * 8L, 0x1000 | PageWalker.P | PageWalker.RW);
        }
        assertEquals(0x1000 | PageWalker.P | PageWalker.RW, GuestMemory.littleEndian(view.readVirtual(0, 0x7f_ffff_f000L, 8)));
    }
}
