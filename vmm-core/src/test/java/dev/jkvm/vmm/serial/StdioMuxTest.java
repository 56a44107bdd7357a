package dev.jkvm.vmm.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.Uart16550;
import dev.jkvm.vmm.monitor.Monitor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** QEMU's Ctrl-A keys on standard input, without KVM: a UART receives, a monitor answers. */
class StdioMuxTest {

    private final Uart16550 uart = new Uart16550(OutputStream.nullOutputStream(), IrqLine.none());
    private final SerialConsole serial = new SerialConsole(OutputStream.nullOutputStream());
    private final ByteArrayOutputStream screen = new ByteArrayOutputStream();
    private final AtomicBoolean quit = new AtomicBoolean();

    private void type(String keys) {
        serial.attach(uart);
        new StdioMux(new ByteArrayInputStream(keys.getBytes(StandardCharsets.ISO_8859_1)),
                new PrintStream(screen, true, StandardCharsets.UTF_8), serial, () -> new Monitor(null), () -> quit.set(true)).run();
    }

    private String received() {
        StringBuilder sb = new StringBuilder();
        while ((uart.read(5, 1) & 1) != 0) { // LSR.DR
            sb.append((char) uart.read(0, 1));
        }
        return sb.toString();
    }

    @Test
    void keysGoToTheGuest() {
        uart.write(2, 1, 0x01); // FIFO on
        type("ls\r");
        assertEquals("ls\r", received());
    }

    @Test
    void ctrlATwiceSendsOneCtrlA() {
        uart.write(2, 1, 0x01);
        type("\u0001\u0001");
        assertEquals("\u0001", received());
    }

    @Test
    void ctrlACSwitchesToTheMonitorAndBack() {
        uart.write(2, 1, 0x01);
        type("\u0001chelp\r\u0001ck");
        String out = screen.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("(qemu) help"), out);
        assertTrue(out.contains("quit"), out);
        assertEquals("k", received()); // only the key typed after switching back
    }

    @Test
    void ctrlAXQuits() {
        type("\u0001x");
        assertTrue(quit.get());
        assertTrue(screen.toString(StandardCharsets.UTF_8).contains("QEMU: Terminated"));
    }
}
