package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.memory.MemoryMap.KIB;
import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.MemoryMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class E820Test {

    private static E820 of(long ram, List<E820.Entry> extra) {
        return E820.of(MemoryMap.pc(ram, 64 * KIB), extra);
    }

    @Test
    void smallGuestLooksAsUnderSeaBios() {
        assertEquals("""
                [mem 0x0000000000000000-0x000000000009fbff] usable
                [mem 0x000000000009fc00-0x000000000009ffff] reserved
                [mem 0x00000000000f0000-0x00000000000fffff] reserved
                [mem 0x0000000000100000-0x0000000007ffffff] usable
                [mem 0x00000000ffff0000-0x00000000ffffffff] reserved
                """, of(128 * MIB, List.of()).toString());
    }

    @Test
    void at3584MibLowMemoryStopsAt3GibAndTheRestIsAbove4Gib() {
        assertEquals("""
                [mem 0x0000000000000000-0x000000000009fbff] usable
                [mem 0x000000000009fc00-0x000000000009ffff] reserved
                [mem 0x00000000000f0000-0x00000000000fffff] reserved
                [mem 0x0000000000100000-0x00000000bfffffff] usable
                [mem 0x00000000ffff0000-0x00000000ffffffff] reserved
                [mem 0x0000000100000000-0x000000011fffffff] usable
                """, of(3584 * MIB, List.of()).toString());
    }

    @Test
    void fiveGib() {
        E820 e = of(5 * 1024 * MIB, List.of());
        assertEquals(6, e.entries().size());
        assertEquals(E820.Entry.ram(0x1_0000_0000L, 0x8000_0000L), e.entries().get(5));
        assertEquals(E820.Entry.ram(MIB, 0xc000_0000L - MIB), e.entries().get(3));
        long usable = e.usable().stream().mapToLong(E820.Entry::size).sum();
        assertEquals(5 * 1024 * MIB - 0x60000 - 0x400, usable, "all RAM but the legacy hole and the EBDA");
    }

    @Test
    void extraRangesAreCarvedOutOfRamAndFillHoles() {
        E820 e = of(128 * MIB, List.of(E820.Entry.acpi(0x7fe0000, 0x20000), E820.Entry.reserved(0xfeffc000L, 0x4000)));
        assertEquals("""
                [mem 0x0000000000000000-0x000000000009fbff] usable
                [mem 0x000000000009fc00-0x000000000009ffff] reserved
                [mem 0x00000000000f0000-0x00000000000fffff] reserved
                [mem 0x0000000000100000-0x0000000007fdffff] usable
                [mem 0x0000000007fe0000-0x0000000007ffffff] ACPI data
                [mem 0x00000000feffc000-0x00000000feffffff] reserved
                [mem 0x00000000ffff0000-0x00000000ffffffff] reserved
                """, e.toString());
        assertEquals(0x7fe0000 - MIB, e.usableFrom(MIB));
        assertEquals(0x9fc00, e.usableFrom(0));
        assertEquals(0, e.usableFrom(0x9fc00));
    }

    @Test
    void anExtraRangeInsideRamSplitsIt() {
        E820 e = of(64 * MIB, List.of(E820.Entry.reserved(0x200000, 0x1000)));
        assertEquals(List.of(E820.Entry.ram(MIB, MIB), E820.Entry.reserved(0x200000, 0x1000),
                E820.Entry.ram(0x201000, 64 * MIB - 0x201000)), e.entries().subList(3, 6));
    }

    @Test
    void adjacentEntriesOfOneTypeMerge() {
        E820 e = of(64 * MIB, List.of(E820.Entry.reserved(0xa0000, 0x50000)));
        assertEquals(E820.Entry.reserved(0x9fc00, 0x100000 - 0x9fc00), e.entries().get(1));
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void linuxZeroPageEntriesArePacked20Bytes() {
        E820 e = of(128 * MIB, List.of());
        byte[] b = e.linuxBootParams();
        assertEquals(5 * 20, b.length);
        ByteBuffer l = le(b);
        assertEquals(0, l.getLong(0));
        assertEquals(0x9fc00, l.getLong(8));
        assertEquals(E820.RAM, l.getInt(16));
        assertEquals(0x9fc00, l.getLong(20));
        assertEquals(0x400, l.getLong(28));
        assertEquals(E820.RESERVED, l.getInt(36));
        assertEquals(0x100000, l.getLong(60));
        assertEquals(128 * MIB - MIB, l.getLong(68));
        assertEquals(0xffff0000L, l.getLong(80));
        assertEquals(0x10000, l.getLong(88));
        assertEquals(E820.RESERVED, l.getInt(96));
    }

    @Test
    void fwCfgFileIsTheSamePackedLayout() {
        E820 e = of(5 * 1024 * MIB, List.of());
        assertArrayEquals(e.linuxBootParams(), e.fwCfg());
        ByteBuffer l = le(e.fwCfg());
        assertEquals(0x1_0000_0000L, l.getLong(100));
        assertEquals(0x8000_0000L, l.getLong(108));
        assertEquals(E820.RAM, l.getInt(116));
    }

    @Test
    void multibootEntriesStartWithTheirSize() {
        E820 e = of(128 * MIB, List.of());
        ByteBuffer l = le(e.multiboot());
        assertEquals(5 * 24, l.capacity());
        for (int i = 0; i < 5; i++) {
            assertEquals(20, l.getInt(i * 24), "size field of entry " + i);
        }
        assertEquals(0x100000, l.getLong(3 * 24 + 4));
        assertEquals(128 * MIB - MIB, l.getLong(3 * 24 + 12));
        assertEquals(E820.RAM, l.getInt(3 * 24 + 20));
    }

    @Test
    void pvhEntriesAre24BytesWithAZeroTail() {
        E820 e = of(128 * MIB, List.of(E820.Entry.acpi(0x7fe0000, 0x20000)));
        ByteBuffer l = le(e.pvh());
        assertEquals(6 * 24, l.capacity());
        assertEquals(0x7fe0000, l.getLong(4 * 24));
        assertEquals(0x20000, l.getLong(4 * 24 + 8));
        assertEquals(E820.ACPI, l.getInt(4 * 24 + 16));
        assertEquals(0, l.getInt(4 * 24 + 20));
    }

    @Test
    void badEntriesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> E820.Entry.ram(0x1000, 0));
        assertThrows(IllegalArgumentException.class, () -> new E820.Entry(0x1000, 0x1000, 0));
        assertThrows(IllegalArgumentException.class, () -> E820.Entry.ram(Long.MAX_VALUE, 2));
    }
}
