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
        assertTrue(m.regionOf(0x9fff0, 17).isEmpty(), "crosses into the legacy hole");
        assertTrue(m.regionOf(128 * MIB - 1, 2).isEmpty());
        assertTrue(m.regionOf(-1, 1).isEmpty());
        assertTrue(m.regionOf(0xfffffff0L, 16).isPresent());
    }

    @Test
    void refusesARomLargerThanItsWindow() {
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.pc(128 * MIB, 16 * MIB + 1));
    }
}
