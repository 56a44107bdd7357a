package dev.jkvm.vmm.acpi.aml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PkgLengthTest {

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void oneByteUpTo63() {
        assertArrayEquals(bytes(0x00), PkgLength.encode(0));
        assertArrayEquals(bytes(0x3F), PkgLength.encode(63));
    }

    @Test
    void twoBytesFrom64To4095() {
        // 64 = 0x040: lead byte 01_00_0000 (one more byte, low nibble 0), then 0x040 >> 4 = 0x04.
        assertArrayEquals(bytes(0x40, 0x04), PkgLength.encode(64));
        // 4095 = 0xFFF: lead 01_00_1111, then 0xFF.
        assertArrayEquals(bytes(0x4F, 0xFF), PkgLength.encode(4095));
    }

    @Test
    void threeBytesFrom4096() {
        // 4096 = 0x1000: lead 10_00_0000, then 0x00 (bits 4-11), 0x01 (bits 12-19).
        assertArrayEquals(bytes(0x80, 0x00, 0x01), PkgLength.encode(4096));
        assertArrayEquals(bytes(0x8F, 0xFF, 0xFF), PkgLength.encode(0xF_FFFF));
    }

    @Test
    void fourBytesFromOneMebibyte() {
        assertArrayEquals(bytes(0xC0, 0x00, 0x00, 0x01), PkgLength.encode(0x10_0000));
        assertArrayEquals(bytes(0xCF, 0xFF, 0xFF, 0xFF), PkgLength.encode(0xFFF_FFFF));
        assertThrows(IllegalArgumentException.class, () -> PkgLength.encode(0x1000_0000));
    }

    @Test
    void forContentCountsItself() {
        // 62 bytes of content + 1 length byte = 63: still one byte.
        assertArrayEquals(bytes(0x3F), PkgLength.forContent(62));
        // 63 + 1 = 64 does not fit one byte; with two bytes the length is 63 + 2 = 65 = 0x41.
        assertArrayEquals(bytes(0x41, 0x04), PkgLength.forContent(63));
        // 4093 + 2 = 4095: the largest two-byte length.
        assertArrayEquals(bytes(0x4F, 0xFF), PkgLength.forContent(4093));
        // 4094 + 2 = 4096 does not fit two bytes; 4094 + 3 = 4097 = 0x1001.
        assertArrayEquals(bytes(0x81, 0x00, 0x01), PkgLength.forContent(4094));
        assertThrows(IllegalArgumentException.class, () -> PkgLength.forContent(-1));
    }
}
