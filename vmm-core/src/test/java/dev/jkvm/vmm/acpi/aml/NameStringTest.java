package dev.jkvm.vmm.acpi.aml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class NameStringTest {

    private static String hex(String path) {
        return HexFormat.of().withUpperCase().formatHex(NameString.encode(path));
    }

    @Test
    void shortSegmentsArePaddedWithUnderscores() {
        assertEquals("5F53355F", hex("_S5")); // "_S5_"
        assertEquals("434F4D31", hex("COM1"));
    }

    @Test
    void rootAndParentPrefixes() {
        assertEquals("5C5F53355F", hex("\\_S5")); // '\' "_S5_"
        assertEquals("5E5E464F4F5F", hex("^^FOO")); // '^' '^' "FOO_"
        assertEquals("5C00", hex("\\")); // the root alone: NullName
    }

    @Test
    void twoSegmentsTakeTheDualPrefixMoreTheMultiPrefixAndACount() {
        assertEquals("5C2E5F53425F50434930", hex("\\_SB.PCI0")); // '\' DualNamePrefix "_SB_" "PCI0"
        assertEquals("2F035F53425F50434930495341", hex("_SB.PCI0.ISA").substring(0, 26)); // MultiNamePrefix, 3
    }

    @Test
    void rejectsInvalidSegments() {
        assertThrows(IllegalArgumentException.class, () -> NameString.encode("1ABC"));
        assertThrows(IllegalArgumentException.class, () -> NameString.encode("ABCDE"));
        assertThrows(IllegalArgumentException.class, () -> NameString.encode("com1"));
        assertThrows(IllegalArgumentException.class, () -> NameString.encode("\\_SB..X"));
    }
}
