package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HexTest {

    @Test
    void bytesAndNumbers() {
        assertEquals("01abff", Hex.bytes(new byte[] {1, (byte) 0xab, (byte) 0xff}));
        assertArrayEquals(new byte[] {1, (byte) 0xab, (byte) 0xff}, Hex.toBytes("01ABff"));
        assertEquals(0xffffffff81000000L, Hex.number("ffffffff81000000"));
        assertEquals(-1, Hex.number("-1"));
        assertEquals("0a", Hex.number(10, 2));
        assertEquals("123", Hex.number(0x123, 2));
        assertEquals("434055203020", Hex.text("C@U 0 "));
    }

    @Test
    void rejectsMalformedHex() {
        assertThrows(IllegalArgumentException.class, () -> Hex.toBytes("abc"));
        assertThrows(IllegalArgumentException.class, () -> Hex.toBytes("zz"));
        assertThrows(IllegalArgumentException.class, () -> Hex.number(""));
        assertThrows(IllegalArgumentException.class, () -> Hex.number("1".repeat(17)));
    }
}
