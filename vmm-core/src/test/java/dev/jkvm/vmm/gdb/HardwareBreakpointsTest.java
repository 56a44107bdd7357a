package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** DR7 encoding for every kind and length, slot bookkeeping and range splitting. */
class HardwareBreakpointsTest {

    @Test
    void dr7BitsForEachKindAndLength() {
        // Slot 0: G0 = bit 1, R/W0 = bits 16-17, LEN0 = bits 18-19.
        assertEquals(0x0000_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.HARDWARE, 1));
        assertEquals(0x0001_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.WRITE, 1));
        assertEquals(0x0005_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.WRITE, 2));
        assertEquals(0x000d_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.WRITE, 4));
        assertEquals(0x0009_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.WRITE, 8));
        assertEquals(0x0003_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.ACCESS, 1));
        assertEquals(0x000f_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.ACCESS, 4));
        assertEquals(0x000b_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.ACCESS, 8));
        assertEquals(0x0007_0002L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.READ, 2), "read watches use R/W = 11");
        // The same fields shifted for slots 1-3: G at 3, 5, 7; R/W+LEN at 20, 24, 28.
        assertEquals(0x0000_0008L, HardwareBreakpoints.dr7Bits(1, BreakpointKind.HARDWARE, 1));
        assertEquals(0x00d0_0008L, HardwareBreakpoints.dr7Bits(1, BreakpointKind.WRITE, 4));
        assertEquals(0x0b00_0020L, HardwareBreakpoints.dr7Bits(2, BreakpointKind.ACCESS, 8));
        assertEquals(0x5000_0080L, HardwareBreakpoints.dr7Bits(3, BreakpointKind.WRITE, 2));
        assertEquals(0xf000_0080L, HardwareBreakpoints.dr7Bits(3, BreakpointKind.READ, 4));
        assertThrows(IllegalArgumentException.class, () -> HardwareBreakpoints.dr7Bits(0, BreakpointKind.WRITE, 3));
        assertThrows(IllegalArgumentException.class, () -> HardwareBreakpoints.dr7Bits(4, BreakpointKind.WRITE, 1));
        assertThrows(IllegalArgumentException.class, () -> HardwareBreakpoints.dr7Bits(0, BreakpointKind.SOFTWARE, 1));
    }

    @Test
    void executeBreakpointsIgnoreTheLengthGdbSends() {
        assertEquals(0x2L, HardwareBreakpoints.dr7Bits(0, BreakpointKind.HARDWARE, 8));
    }

    @Test
    void splitsRangesIntoAlignedPieces() {
        assertEquals(List.of(new HardwareBreakpoints.Piece(0x1000, 8)), HardwareBreakpoints.split(0x1000, 8));
        assertEquals(List.of(new HardwareBreakpoints.Piece(0x1002, 2), new HardwareBreakpoints.Piece(0x1004, 2)),
                HardwareBreakpoints.split(0x1002, 4));
        assertEquals(List.of(new HardwareBreakpoints.Piece(0x1001, 1), new HardwareBreakpoints.Piece(0x1002, 2),
                new HardwareBreakpoints.Piece(0x1004, 4)), HardwareBreakpoints.split(0x1001, 7));
        assertEquals(List.of(new HardwareBreakpoints.Piece(0x1000, 8), new HardwareBreakpoints.Piece(0x1008, 8)),
                HardwareBreakpoints.split(0x1000, 16));
        assertTrue(HardwareBreakpoints.split(0x1000, 0).isEmpty());
        assertTrue(HardwareBreakpoints.split(0x1000, 33).isEmpty());
    }

    @Test
    void slotsFillAndFreeAndMakeDr7() {
        HardwareBreakpoints hw = new HardwareBreakpoints();
        assertEquals(0, hw.dr7());
        assertTrue(hw.insert(BreakpointKind.HARDWARE, 0xffffffff81000000L, 1));
        assertTrue(hw.insert(BreakpointKind.WRITE, 0x2000, 4));
        assertEquals(0x600 | 0x2 | 0x00d0_0008L, hw.dr7());
        assertArrayEquals(new long[] {0xffffffff81000000L, 0x2000, 0, 0}, hw.addresses());
        assertFalse(hw.insert(BreakpointKind.ACCESS, 0x3001, 7), "needs three slots, two are free");
        assertNull(hw.slot(2), "a refused request takes nothing");
        assertTrue(hw.insert(BreakpointKind.ACCESS, 0x3000, 16));
        assertFalse(hw.insert(BreakpointKind.HARDWARE, 0x4000, 1));
        assertTrue(hw.remove(BreakpointKind.WRITE, 0x2000, 4));
        assertNull(hw.slot(1));
        assertTrue(hw.remove(BreakpointKind.ACCESS, 0x3000, 16));
        assertFalse(hw.remove(BreakpointKind.ACCESS, 0x3000, 16));
        assertEquals(0x600 | 0x2L, hw.dr7());
        hw.clear();
        assertTrue(hw.isEmpty());
        assertEquals(0, hw.dr7());
    }
}
