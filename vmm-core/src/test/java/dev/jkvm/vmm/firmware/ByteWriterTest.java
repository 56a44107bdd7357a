package dev.jkvm.vmm.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ByteWriterTest {

    @Test
    void writesLittleEndian() {
        byte[] b = new ByteWriter().u8(0x01).u16(0x0302).u32(0x07060504L).u64(0x0F0E0D0C0B0A0908L).toByteArray();
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, b);
    }

    @Test
    void padsAsciiWithSpacesAndRejectsWhatDoesNotFit() {
        assertEquals("ISA   ", Le.ascii(new ByteWriter().ascii("ISA", 6).toByteArray(), 0, 6));
        assertThrows(IllegalArgumentException.class, () -> new ByteWriter().ascii("TOOLONG", 6));
        assertThrows(IllegalArgumentException.class, () -> new ByteWriter().ascii("é", 6));
    }

    @Test
    void growsAndPatches() {
        ByteWriter w = new ByteWriter().zeros(1000).u8(0x80);
        w.putU16(2, 0xBEEF);
        w.putU32(10, 0xCAFEBABEL);
        byte[] b = w.toByteArray();
        assertEquals(1001, b.length);
        assertEquals(0xBEEF, Le.u16(b, 2));
        assertEquals(0xCAFEBABEL, Le.u32(b, 10));
        assertThrows(IndexOutOfBoundsException.class, () -> w.putU8(1001, 0));
    }

    @Test
    void alignsAndFixesChecksums() {
        ByteWriter w = new ByteWriter().u8(0x12).align(8);
        assertEquals(8, w.position());
        w.u8(0xFF).u8(0x40);
        w.fixChecksum(3, 0, w.position());
        assertEquals(0, Le.sum(w.toByteArray(), 0, w.position()));
        assertEquals(0, Checksum.sum(w.toByteArray(), 0, w.position()));
    }
}
