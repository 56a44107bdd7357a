package dev.jkvm.vmm.acpi.aml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EisaIdTest {

    @Test
    void compressesLettersAndKeepsHexDigits() {
        // "PNP" = 10000 01110 10000 = 0x41D0, stored big-endian first; then 0x05, 0x01.
        assertEquals(0x0105D041, EisaId.encode("PNP0501"));
        assertEquals(0x030AD041, EisaId.encode("PNP0A03"));
        assertEquals(0x0303D041, EisaId.encode("PNP0303"));
        assertEquals(0x000BD041, EisaId.encode("PNP0B00"));
    }

    @Test
    void rejectsMalformedIds() {
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("PNP050"));
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("pnp0501"));
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("PNP0G01"));
        assertThrows(IllegalArgumentException.class, () -> EisaId.encode("PNP0a03"));
    }
}
