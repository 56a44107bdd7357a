package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SystemControlPortATest {

    final RecordingSystemControl control = new RecordingSystemControl();
    final SystemControlPortA port = new SystemControlPortA(control);

    @Test
    void bit1IsTheA20Gate() {
        assertFalse(port.a20Enabled());
        port.write(0, 1, 0x02);
        assertTrue(port.a20Enabled());
        assertEquals(0x02, port.read(0, 1));
        port.write(0, 1, 0x00);
        assertFalse(port.a20Enabled());
        assertEquals(List.of(), control.calls());
    }

    @Test
    void bit0RisingEdgeResetsOnce() {
        port.write(0, 1, 0x03);
        assertEquals(List.of("reset"), control.calls());
        port.write(0, 1, 0x03); // no new edge
        assertEquals(List.of("reset"), control.calls());
        assertEquals(0x03, port.read(0, 1));
        port.reset(); // the machine reset clears bit 0, keeps A20
        assertEquals(0x02, port.read(0, 1));
        port.write(0, 1, 0x03);
        assertEquals(List.of("reset", "reset"), control.calls());
    }
}
