package dev.jkvm.vmm.memory;

import static dev.jkvm.vmm.memory.MemoryMap.GIB;
import static dev.jkvm.vmm.memory.MemoryMap.KIB;
import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryMapTest {

    private static String describe(MemoryMap m) {
        StringBuilder sb = new StringBuilder();
        for (Region r : m.regions()) {
            sb.append(String.format("%s %x-%x %s%n", r.name(), r.base(), r.end() - 1, r.kind()));
        }
        return sb.toString();
    }

    @Test
    void smallGuestIsAllBelow4g() {
        MemoryMap m = MemoryMap.pc(128 * MIB, 64 * KIB);
        assertEquals("""
                ram-low 0-9ffff RAM
                pc.rom c0000-dffff OPTION_ROM
                ram-isa e0000-effff UNLISTED_RAM
                isa-bios f0000-fffff ROM_ALIAS
                ram 100000-7ffffff RAM
                bios ffff0000-ffffffff ROM
                """, describe(m));
        assertEquals(128 * MIB, m.ramBelow4g());
        assertEquals(0, m.ramAbove4g());
    }

    @Test
    void isaBiosShowsOnlyTheLast128k() {
        MemoryMap m = MemoryMap.pc(64 * MIB, 1 * MIB);
        Region isa = m.regions().stream().filter(r -> r.name().equals("isa-bios")).findFirst().orElseThrow();
        assertEquals(0xE0000, isa.base());
        assertEquals(128 * KIB, isa.size());
        Region bios = m.regions().stream().filter(r -> r.name().equals("bios")).findFirst().orElseThrow();
        assertEquals(0x1_0000_0000L - MIB, bios.base());
    }

    /**
     * QEMU's pc: pc.rom at 0xC0000-0xDFFFF, the ROM's alias below 1 MiB, and its low RAM wherever
     * that alias does not reach (a 64 KiB ROM: 0xE0000-0xEFFFF; no ROM: all of 0xE0000-0xFFFFF).
     * Whatever the ROM, the whole legacy area 0xC0000-0xFFFFF is memory, and nothing overlaps.
     */
    @Test
    void theLegacyAreaIsMemoryWhateverTheRomsSize() {
        for (long rom : List.of(0L, 64 * KIB, 128 * KIB, 192 * KIB, MIB)) {
            MemoryMap m = MemoryMap.pc(128 * MIB, rom);
            assertEquals(MIB - 0xC0000, new GuestMemorySpan(m).backed(0xC0000, MIB - 0xC0000), "ROM " + rom);
            Region pcRom = m.regionOf(0xC0000, 1).orElseThrow();
            assertEquals(List.of("pc.rom", 0xC0000L, 128 * KIB, Region.Kind.OPTION_ROM),
                    List.of(pcRom.name(), pcRom.base(), pcRom.size(), pcRom.kind()));
            long isa = Math.min(rom, 128 * KIB);
            Region atE = m.regionOf(0xE0000, 1).orElseThrow();
            if (isa < 128 * KIB) {
                assertEquals(List.of("ram-isa", 0xE0000L, 128 * KIB - isa, Region.Kind.UNLISTED_RAM),
                        List.of(atE.name(), atE.base(), atE.size(), atE.kind()), "ROM " + rom);
            } else {
                assertEquals("isa-bios", atE.name());
            }
            for (int i = 1; i < m.regions().size(); i++) {
                assertTrue(m.regions().get(i - 1).end() <= m.regions().get(i).base(), describe(m));
            }
        }
        assertTrue(Region.Kind.UNLISTED_RAM.guestWritable() && Region.Kind.RAM.guestWritable());
        assertTrue(!Region.Kind.OPTION_ROM.guestWritable() && !Region.Kind.ROM.guestWritable()
                && !Region.Kind.ROM_ALIAS.guestWritable());
    }

    /** How much of a range the map's regions cover, contiguously from its start. */
    private record GuestMemorySpan(MemoryMap map) {
        long backed(long from, long length) {
            long done = 0;
            while (done < length) {
                Region r = map.regionOf(from + done, 1).orElse(null);
                if (r == null) {
                    break;
                }
                done = Math.min(length, r.end() - from);
            }
            return done;
        }
    }

    @Test
    void from3AndAHalfGigabytesTheRestMovesAbove4g() {
        MemoryMap below = MemoryMap.pc(3 * GIB + 511 * MIB, 64 * KIB);
        assertEquals(3 * GIB + 511 * MIB, below.ramBelow4g());
        MemoryMap split = MemoryMap.pc(3584 * MIB, 64 * KIB);
        assertEquals(3 * GIB, split.ramBelow4g());
        assertEquals(512 * MIB, split.ramAbove4g());
        Region high = split.regions(Region.Kind.RAM).get(2);
        assertEquals(List.of("ram-high", 4 * GIB, 512 * MIB), List.of(high.name(), high.base(), high.size()));
        long ram = split.regions(Region.Kind.RAM).stream().mapToLong(Region::size).sum();
        // Everything but the 384 KiB legacy hole is usable.
        assertEquals(3584 * MIB - (MIB - 0xA0000), ram);
    }

    @Test
    void regionLookupIsBoundsChecked() {
        MemoryMap m = MemoryMap.pc(128 * MIB, 64 * KIB);
        assertTrue(m.regionOf(0x9fff0, 16).isPresent());
        assertTrue(m.regionOf(0x9fff0, 17).isEmpty(), "crosses into the VGA window");
        assertTrue(m.regionOf(0xbfff0, 16).isEmpty(), "the VGA window is MMIO");
        assertTrue(m.regionOf(0xdfff0, 17).isEmpty(), "crosses from pc.rom into the RAM after it");
        assertTrue(m.regionOf(128 * MIB - 1, 2).isEmpty());
        assertTrue(m.regionOf(-1, 1).isEmpty());
        assertTrue(m.regionOf(0xfffffff0L, 16).isPresent());
    }

    @Test
    void refusesARomLargerThanItsWindow() {
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.pc(128 * MIB, 16 * MIB + 1));
    }
}
