package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class IsaDebugconTest {

    @Test
    void bytesGoOutAndReadsReturnTheReadbackValue() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PortBus bus = new PortBus();
        bus.register(0x402, 1, new IsaDebugcon(out, IsaDebugcon.DEFAULT_READBACK));
        for (byte b : "SeaBIOS\n".getBytes(StandardCharsets.US_ASCII)) {
            bus.write(0x402, 1, b);
        }
        bus.write(0x402, 2, 0x4241); // a wider write sends its low byte
        assertEquals("SeaBIOS\nA", out.toString(StandardCharsets.US_ASCII));
        assertEquals(0xe9, bus.read(0x402, 1));
    }
}
