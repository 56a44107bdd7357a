package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SerialInputPumpTest {

    static final int DATA = 0, IER = 1, FCR = 2, MCR = 4, LSR = 5;

    /** An interrupt line that wakes the "guest" on each rising edge, as an interrupt handler would. */
    static final class WakingIrqLine implements IrqLine {
        final Semaphore edges = new Semaphore(0);
        boolean level;

        @Override
        public void set(boolean high) {
            if (high && !level) {
                edges.release();
            }
            level = high;
        }
    }

    /**
     * A guest driving the UART by interrupts: wait for the IRQ, read everything the LSR says is there,
     * repeat. Input is a burst far larger than the FIFO, pushed by the pump as fast as it can.
     */
    @Test
    void burstLargerThanTheFifoArrivesCompleteAndInOrderThroughInterrupts() throws Exception {
        WakingIrqLine irq = new WakingIrqLine();
        Uart16550 uart = new Uart16550("COM1", OutputStream.nullOutputStream(), irq);
        uart.write(FCR, 1, 0x81); // FIFO, trigger 8
        uart.write(MCR, 1, 0x08); // OUT2
        uart.write(IER, 1, 0x01); // received data interrupts
        int total = 5000;
        byte[] input = new byte[total];
        for (int i = 0; i < total; i++) {
            input[i] = (byte) (i * 7);
        }
        try (SerialInputPump pump = SerialInputPump.start("test", new ByteArrayInputStream(input), uart)) {
            int got = 0;
            while (got < total) {
                if (!irq.edges.tryAcquire(30, TimeUnit.SECONDS)) {
                    fail("no interrupt with " + got + " of " + total + " bytes received");
                }
                while ((uart.read(LSR, 1) & 0x01) != 0) {
                    assertEquals(input[got] & 0xff, uart.read(DATA, 1), "byte " + got);
                    got++;
                }
            }
            assertTrue(pump.awaitEnd(30_000));
            assertNull(pump.failure());
            assertEquals(0, uart.read(LSR, 1) & 0x01); // nothing extra
        }
    }

    @Test
    void receiveFullyBlocksUntilTheGuestMakesRoomAndIsInterruptible() throws Exception {
        Uart16550 uart = new Uart16550(OutputStream.nullOutputStream(), IrqLine.none());
        uart.write(FCR, 1, 0x01);
        Exception[] thrown = new Exception[1];
        Thread sender = new Thread(() -> {
            try {
                uart.receiveFully(new byte[40], 0, 40);
            } catch (InterruptedException e) {
                thrown[0] = e;
            }
        });
        sender.start();
        // The sender fills the FIFO and must then wait: the FIFO stays full until we read.
        while (uart.canReceive()) {
            Thread.onSpinWait();
        }
        for (int i = 0; i < 16; i++) { // drain one FIFO's worth: the sender refills it
            uart.read(DATA, 1);
        }
        sender.interrupt();
        sender.join();
        assertTrue(thrown[0] instanceof InterruptedException);
    }

    @Test
    void closeStopsAPumpWaitingOnItsStream() throws Exception {
        Uart16550 uart = new Uart16550(OutputStream.nullOutputStream(), IrqLine.none());
        PipedOutputStream host = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(host);
        SerialInputPump pump = SerialInputPump.start("idle", in, uart);
        host.write('x');
        host.flush();
        while ((uart.read(LSR, 1) & 0x01) == 0) {
            Thread.onSpinWait();
        }
        assertEquals('x', uart.read(DATA, 1));
        pump.close();
        assertTrue(pump.awaitEnd(30_000));
        assertNull(pump.failure());
    }
}
