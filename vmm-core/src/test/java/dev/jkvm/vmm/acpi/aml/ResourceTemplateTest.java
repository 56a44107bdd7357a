package dev.jkvm.vmm.acpi.aml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ResourceTemplateTest {

    private static String hex(byte[] b) {
        return HexFormat.of().withUpperCase().formatHex(b);
    }

    @Test
    void serialPortResources() {
        // IO (Decode16, 0x3F8, 0x3F8, 1, 8): 47, decode16, min, max, alignment, length.
        // IRQNoFlags () {4}: 22, mask 0x0010. End Tag 79 and the byte that makes all sum to 0.
        byte[] b = new ResourceTemplate().io(0x3f8, 0x3f8, 0x01, 0x08).irqNoFlags(4).toBytes();
        assertEquals("4701F803F8030108221000790E", hex(b));
        int sum = 0;
        for (byte x : b) {
            sum += x;
        }
        assertEquals(0, sum & 0xFF);
    }

    @Test
    void emptyTemplateIsJustTheEndTag() {
        assertEquals("7987", hex(new ResourceTemplate().toBytes()));
    }

    @Test
    void memory32Fixed() {
        // 86, length 9, read/write, base 0xFED00000, length 0x400.
        assertEquals("860900010000D0FE00040000", hex(new ResourceTemplate().memory32Fixed(true, 0xFED00000L, 0x400)
                .toBytes()).substring(0, 24));
    }

    @Test
    void bridgeWindows() {
        // WordBusNumber: 88, length 13, type 2 (bus), producer/MinFixed/MaxFixed 0C, 0, gran 0, 0..FF, xlat 0, len 0x100.
        assertEquals("880D00020C0000000000FF0000000001",
                hex(new ResourceTemplate().wordBusNumber(0, 0xFF).toBytes()).substring(0, 32));
        // WordIO: type 1, type flags 3 (entire range).
        assertEquals("880D00010C0300000000F70C0000F80C",
                hex(new ResourceTemplate().wordIo(0, 0xCF7).toBytes()).substring(0, 32));
        // DWordMemory: 87, length 23, type 0, 0C, cacheable (bit 1) read/write (bit 0) = 03.
        assertEquals("871700000C03" + "00000000" + "00000A00" + "FFFF0B00" + "00000000" + "00000200",
                hex(new ResourceTemplate().dwordMemory(true, true, 0xA0000, 0xBFFFF).toBytes()).substring(0, 52));
    }

    @Test
    void asAmlItIsABuffer() {
        // BufferOp, PkgLength 8, BufferSize 5 (IRQNoFlags {1} is 3 bytes, the End Tag 2), the descriptors;
        // 0x22 + 0x02 + 0x79 = 0x9D, so the checksum is 0x63.
        Aml a = new ResourceTemplate().irqNoFlags(1).toAml();
        assertEquals("11080A05" + "220200" + "7963", hex(a.bytes()));
    }

    @Test
    void rejectsWhatADescriptorCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> new ResourceTemplate().irqNoFlags(16));
        assertThrows(IllegalArgumentException.class, () -> new ResourceTemplate().io(0x10, 0x0F, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ResourceTemplate().io(0, 0, 1, 256));
    }
}
