package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class RamPlannerTest {

    private static RamPlanner planner(long ram, List<E820.Entry> extra) {
        return new RamPlanner(E820.of(MemoryMap.pc(ram, 65536), extra));
    }

    @Test
    void onlyUsableRamCounts() {
        RamPlanner p = planner(64 * MIB, List.of(E820.Entry.acpi(0x3ff0000, 0x10000)));
        assertTrue(p.isUsable(0, 0x9fc00));
        assertFalse(p.isUsable(0x9f000, 0x1000), "into the EBDA");
        assertFalse(p.isUsable(0xf0000, 16));
        assertTrue(p.isUsable(MIB, 0x3ff0000 - MIB));
        assertFalse(p.isUsable(0x3fe0000, 0x20000), "into the ACPI tables");
    }

    @Test
    void highestGoesUnderWhatIsTakenAndUnderTheCeiling() {
        RamPlanner p = planner(64 * MIB, List.of());
        assertEquals(64 * MIB - 0x2000, p.highest(0x1800, 0x1000, Long.MAX_VALUE));
        p.take("a", 60 * MIB, 4 * MIB);
        assertEquals(60 * MIB - 0x1000, p.highest(0x1000, 0x1000, Long.MAX_VALUE));
        assertEquals(32 * MIB - 0x1000, p.highest(0x1000, 0x1000, 32 * MIB));
        assertEquals(0x9f000 - 0x1000, p.highest(0x1000, 0x1000, 0x100000), "falls back to low memory");
        assertEquals(-1, p.highest(64 * MIB, 0x1000, Long.MAX_VALUE));
    }

    @Test
    void lowestGoesAboveTheFloorAndPastWhatIsTaken() {
        RamPlanner p = planner(64 * MIB, List.of());
        p.take("kernel", MIB, 0x3456);
        assertEquals(MIB + 0x4000, p.lowest(0x100, 0x1000, MIB));
        assertEquals(0x2000, p.lowest(0x100, 0x1000, 0x1234));
        assertEquals(-1, p.lowest(0x1000, 0x1000, 64 * MIB));
        assertNull(p.overlapping(MIB + 0x3456, 10));
        assertEquals("kernel", p.overlapping(MIB + 0x3455, 10).what());
    }
}
