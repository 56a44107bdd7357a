package dev.jkvm.vmm.acpi.aml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class AmlTest {

    private static String hex(Aml a) {
        return HexFormat.of().withUpperCase().formatHex(a.bytes());
    }

    @Test
    void integersTakeTheShortestForm() {
        assertEquals("00", hex(Aml.integer(0))); // ZeroOp
        assertEquals("01", hex(Aml.integer(1))); // OneOp
        assertEquals("0A02", hex(Aml.integer(2))); // BytePrefix
        assertEquals("0AFF", hex(Aml.integer(0xFF)));
        assertEquals("0B0001", hex(Aml.integer(0x100))); // WordPrefix, little-endian
        assertEquals("0C00000100", hex(Aml.integer(0x10000))); // DWordPrefix
        assertEquals("0CFFFFFFFF", hex(Aml.integer(0xFFFF_FFFFL)));
        assertEquals("0E0000000001000000", hex(Aml.integer(0x1_0000_0000L))); // QWordPrefix
        assertEquals("0EFFFFFFFFFFFFFFFF", hex(Aml.integer(-1))); // read unsigned
    }

    @Test
    void stringsAreNulTerminatedAscii() {
        assertEquals("0D414350493030303700", hex(Aml.string("ACPI0007"))); // StringPrefix "ACPI0007" NUL
        assertThrows(IllegalArgumentException.class, () -> Aml.string("caf\u00e9"));
    }

    @Test
    void eisaIdIsAlwaysADword() {
        assertEquals("0C41D00A03", hex(Aml.eisaId("PNP0A03")));
    }

    @Test
    void aPackage() {
        // Package (3) {0, 1, 2}: PackageOp, PkgLength 6 (itself + count + 00 01 0A02), NumElements 3.
        assertEquals("12060300010A02", hex(Aml.packageOf(Aml.integer(0), Aml.integer(1), Aml.integer(2))));
        assertThrows(IllegalArgumentException.class, () -> Aml.packageOf(new Aml[256]));
    }

    @Test
    void aName() {
        // Name (_UID, 2): NameOp "_UID" BytePrefix 2.
        assertEquals("085F5549440A02", hex(Aml.name("_UID", Aml.integer(2))));
    }

    @Test
    void aMethod() {
        // Method (_STA, 0, NotSerialized) { Return (0x0F) }: MethodOp, PkgLength 9, "_STA", flags 0, ReturnOp 0A0F.
        assertEquals("14095F53544100A40A0F", hex(Aml.method("_STA", Aml.returnOf(Aml.integer(0x0F)))));
        // Flags: 2 arguments (bits 0-2), Serialized (bit 3), SyncLevel 3 (bits 4-7) = 0x3A.
        assertEquals("1406464F4F5F3A", hex(Aml.method("FOO", 2, true, 3)));
    }

    @Test
    void aDeviceInAScope() {
        // Device (COM1) { Name (_UID, One) }: ExtOpPrefix DeviceOp, PkgLength 11, "COM1", NameOp "_UID" OneOp.
        Aml device = Aml.device("COM1", Aml.name("_UID", Aml.integer(1)));
        assertEquals("5B820B434F4D31085F55494401", hex(device));
        // Scope (\_SB) {...}: ScopeOp, PkgLength 1 + 5 + 13 = 19, '\' "_SB_", the device.
        assertEquals("1013" + "5C5F53425F" + hex(device), hex(Aml.scope("\\_SB", device)));
    }

    @Test
    void aBuffer() {
        // Buffer (3) {1, 2, 3}: BufferOp, PkgLength 6, BufferSize BytePrefix 3, the bytes.
        assertEquals("11060A03010203", hex(Aml.buffer(new byte[] {1, 2, 3})));
    }

    @Test
    void aBufferWhoseContentCrossesTheOneBytePkgLength() {
        // 61 data bytes + BufferSize (0A 3D) = 63 bytes of content: PkgLength 65 in two bytes 41 04.
        Aml b = Aml.buffer(new byte[61]);
        assertEquals(1 + 2 + 63, b.length());
        assertEquals("1141040A3D00", hex(b).substring(0, 12));
        // 60 data bytes: 62 bytes of content, PkgLength 63 still in one byte.
        assertEquals("113F0A3C", hex(Aml.buffer(new byte[60])).substring(0, 8));
    }

    @Test
    void aScopeWhoseContentCrossesTheTwoBytePkgLength() {
        // NameString (4) + 4089 bytes = 4093 bytes: PkgLength 4095 (4F FF); one byte more: 3 bytes, 4097 (81 00 01).
        Aml filler = Aml.raw(new byte[4089]);
        assertEquals("104FFF", hex(Aml.scope("ABCD", filler)).substring(0, 6));
        Aml more = Aml.raw(new byte[4090]);
        assertEquals("10810001", hex(Aml.scope("ABCD", more)).substring(0, 8));
    }

    @Test
    void sequencesConcatenate() {
        assertEquals("00010A02", hex(Aml.of(Aml.integer(0), Aml.integer(1), Aml.integer(2))));
        assertEquals("5C5F53425F", hex(Aml.nameRef("\\_SB")));
    }
}
