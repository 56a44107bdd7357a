package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ResetControlRegisterTest {

    final RecordingSystemControl control = new RecordingSystemControl();
    final ResetControlRegister rcr = new ResetControlRegister(control);

    @Test
    void acpiResetValueResets() {
        rcr.write(0, 1, ResetControlRegister.ACPI_RESET_VALUE);
        assertEquals(List.of("reset"), control.calls());
    }

    @Test
    void softResetBitAloneAlsoResets() {
        rcr.write(0, 1, 0x04);
        assertEquals(List.of("reset"), control.calls());
    }

    @Test
    void withoutRstCpuOnlyTheResetTypeIsStored() {
        rcr.write(0, 1, 0xfb);
        assertEquals(List.of(), control.calls());
        assertEquals(0x02, rcr.read(0, 1));
        rcr.reset();
        assertEquals(0x00, rcr.read(0, 1));
    }
}
