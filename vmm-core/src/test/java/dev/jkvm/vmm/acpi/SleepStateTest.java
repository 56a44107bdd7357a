package dev.jkvm.vmm.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class SleepStateTest {

    @Test
    void decodesPm1ControlWrites() {
        assertEquals(Optional.of(SleepState.S5), SleepState.ofControlWrite(0 << 10 | 1 << 13 | 1));
        assertEquals(Optional.of(SleepState.S3), SleepState.ofControlWrite(1 << 10 | 1 << 13));
        assertEquals(Optional.empty(), SleepState.ofControlWrite(1 << 10), "no SLP_EN");
        assertEquals(Optional.empty(), SleepState.ofControlWrite(5 << 10 | 1 << 13), "no such SLP_TYP");
    }

    @Test
    void valuesMatchQemusPiix4() {
        assertEquals(0, SleepState.S5.slpTyp());
        assertEquals(1, SleepState.S3.slpTyp());
    }
}
