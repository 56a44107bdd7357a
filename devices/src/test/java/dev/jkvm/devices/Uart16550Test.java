package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class Uart16550Test {

    // Register offsets.
    static final int DATA = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
    // Bits used below.
    static final int ERBFI = 0x01, ETBEI = 0x02, ELSI = 0x04, EDSSI = 0x08;
    static final int DTR = 0x01, RTS = 0x02, OUT1 = 0x04, OUT2 = 0x08, LOOP = 0x10;
    static final int DR = 0x01, OE = 0x02, BI = 0x10, THRE = 0x20, TEMT = 0x40, RXFE = 0x80;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final RecordingIrqLine irq = new RecordingIrqLine();
    final Uart16550 uart = new Uart16550("COM1", out, irq);

    int r(int reg) {
        return uart.read(reg, 1);
    }

    void w(int reg, int value) {
        uart.write(reg, 1, value);
    }

    void feed(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(b.length, uart.receive(b, 0, b.length));
    }

    String drain() {
        StringBuilder sb = new StringBuilder();
        while ((r(LSR) & DR) != 0) {
            sb.append((char) r(DATA));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Power-on state, simple registers

    @Test
    void powerOnState() {
        assertEquals(THRE | TEMT, r(LSR));
        assertEquals(0x01, r(IIR));
        assertEquals(0, r(IER));
        assertEquals(0, r(LCR));
        assertEquals(0, r(MCR));
        assertEquals(0xb0, r(MSR)); // DCD, DSR, CTS asserted by the attached terminal, no deltas
        assertEquals(0, r(SCR));
        assertEquals(Uart16550.DEFAULT_DIVISOR, uart.divisor());
        assertTrue(uart.canReceive());
        assertEquals(List.of(), irq.calls());
        assertEquals("COM1", uart.name());
    }

    @Test
    void lcrAndScratchRoundTripEveryValue() {
        for (int v = 0; v < 256; v++) {
            w(SCR, v);
            assertEquals(v, r(SCR));
            w(LCR, v);
            assertEquals(v, r(LCR));
        }
    }

    @Test
    void ierKeepsFourBitsAndMcrFiveBits() {
        w(IER, 0xff);
        assertEquals(0x0f, r(IER));
        w(MCR, 0xff);
        assertEquals(0x1f, r(MCR));
    }

    @Test
    void lsrAndMsrIgnoreWrites() {
        w(LSR, 0x00);
        w(MSR, 0xff);
        assertEquals(THRE | TEMT, r(LSR));
        assertEquals(0xb0, r(MSR));
    }

    // ---------------------------------------------------------------------------------------------
    // Divisor latch

    @Test
    void dlabSwitchesOffsetsZeroAndOneToTheDivisorLatch() {
        w(IER, 0x05);
        w(LCR, 0x80 | 0x03);
        assertEquals(12, r(DATA)); // DLL of the power-on divisor
        assertEquals(0, r(IER));   // DLM
        w(DATA, 0x01);
        w(IER, 0x02);
        assertEquals(0x01, r(DATA));
        assertEquals(0x02, r(IER));
        assertEquals(0x0201, uart.divisor());
        assertEquals(0, out.size()); // the DLL write did not transmit

        w(LCR, 0x03);
        assertEquals(0x05, r(IER)); // IER untouched by the DLM write
        w(DATA, 'x');
        assertEquals("x", out.toString(StandardCharsets.ISO_8859_1));
        w(LCR, 0x83);
        assertEquals(0x01, r(DATA)); // divisor untouched by the THR write
        assertEquals(0x02, r(IER));
    }

    @Test
    void wideAccessesAreSplitIntoByteAccesses() {
        w(LCR, 0x80);
        uart.write(DATA, 2, 0x0301);
        assertEquals(0x0301, uart.divisor());
        assertEquals(0x0301, uart.read(DATA, 2));
        assertEquals(0x80 << 8 | 0x00, uart.read(IIR, 2) & 0xff00); // LCR in the high byte
        assertEquals(0xffff, uart.read(7, 2) & 0xff00 | 0xff);      // offset 8 reads as 0xff
        assertEquals(0xff, uart.read(7, 2) >>> 8);
    }

    // ---------------------------------------------------------------------------------------------
    // Transmit

    @Test
    void transmittedBytesReachTheSinkAndThrStaysEmpty() {
        for (byte b : "hello\n".getBytes(StandardCharsets.US_ASCII)) {
            w(DATA, b);
            assertEquals(THRE | TEMT, r(LSR) & (THRE | TEMT));
        }
        assertEquals("hello\n", out.toString(StandardCharsets.US_ASCII));
        w(FCR, 0x07); // with FIFOs too
        w(DATA, 0xe9);
        assertEquals(THRE | TEMT, r(LSR));
        assertArrayEquals(new byte[] {'h', 'e', 'l', 'l', 'o', '\n', (byte) 0xe9}, out.toByteArray());
    }

    @Test
    void sinkFailuresAreCountedNotThrown() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("closed");
            }
        };
        Uart16550 u = new Uart16550(broken, IrqLine.none());
        u.write(DATA, 1, 'a');
        u.write(DATA, 1, 'b');
        assertEquals(2, u.outputErrors());
        assertEquals(THRE | TEMT, u.read(LSR, 1));
    }

    // ---------------------------------------------------------------------------------------------
    // Loopback

    @Test
    void loopbackSendsTransmitToReceiverNotSink() {
        w(MCR, LOOP);
        w(DATA, 'A');
        assertEquals(DR | THRE | TEMT, r(LSR));
        assertEquals('A', r(DATA));
        assertEquals(THRE | TEMT, r(LSR));
        assertEquals(0, out.size());
        // The serial input is disconnected in loopback.
        assertFalse(uart.canReceive());
        assertEquals(0, uart.receive(new byte[] {'z'}, 0, 1));
        // Back to normal: output reaches the sink again, input is accepted.
        w(MCR, 0);
        w(DATA, 'B');
        assertEquals("B", out.toString(StandardCharsets.US_ASCII));
        assertTrue(uart.canReceive());
    }

    @Test
    void loopbackMirrorsMcrIntoMsrWithDeltaBits() {
        w(MCR, LOOP); // inputs switch from the terminal's DCD|DSR|CTS to MCR's all-zero outputs
        assertEquals(0x0b, r(MSR)); // DDCD | DDSR | DCTS, no TERI (RI was not on)
        assertEquals(0x00, r(MSR)); // deltas cleared by the read

        w(MCR, LOOP | RTS);
        assertEquals(0x10 | 0x01, r(MSR)); // CTS, DCTS
        w(MCR, LOOP | DTR);
        assertEquals(0x20 | 0x02 | 0x01, r(MSR)); // DSR, DDSR; CTS dropped: DCTS
        w(MCR, LOOP | OUT1);
        assertEquals(0x40 | 0x02, r(MSR)); // RI on (rising: no TERI), DSR dropped: DDSR
        w(MCR, LOOP);
        assertEquals(0x04, r(MSR)); // RI falling: TERI
        w(MCR, LOOP | OUT2);
        assertEquals(0x80 | 0x08, r(MSR)); // DCD, DDCD

        // Linux's probe: MCR = LOOP | OUT2 | RTS must show DCD | CTS.
        w(MCR, LOOP | OUT2 | RTS);
        assertEquals(0x90, r(MSR) & 0xf0);

        // Deltas accumulate until read.
        w(MCR, LOOP);
        w(MCR, LOOP | DTR | RTS);
        assertEquals(0x30 | 0x08 | 0x02 | 0x01, r(MSR));
    }

    @Test
    void modemInputsOutsideLoopbackSetDeltasAndModemStatusInterrupt() {
        w(MCR, OUT2);
        w(IER, EDSSI);
        assertEquals(0x01, r(IIR));
        uart.setModemInputs(0x80 | 0x20 | 0x40); // CTS drops, RI rises
        assertEquals(0x00, r(IIR));              // modem status interrupt
        assertTrue(irq.level());
        assertEquals(0x80 | 0x40 | 0x20 | 0x01, r(MSR)); // no TERI on a rising RI
        assertEquals(0x01, r(IIR));
        assertFalse(irq.level());
        uart.setModemInputs(0x80 | 0x20); // RI falls
        assertEquals(0x04 | 0xa0, r(MSR));
    }

    // ---------------------------------------------------------------------------------------------
    // FIFOs

    @Test
    void fifoEnableShowsInIirBits6And7() {
        w(FCR, 0x01);
        assertEquals(0xc1, r(IIR));
        w(FCR, 0x00);
        assertEquals(0x01, r(IIR));
        w(FCR, 0xc7);
        assertEquals(0xc1, r(IIR));
    }

    @Test
    void fifoHoldsSixteenBytesInOrder() {
        w(FCR, 0x01);
        byte[] in = "0123456789abcdefXYZ".getBytes(StandardCharsets.US_ASCII);
        assertEquals(16, uart.receive(in, 0, in.length));
        assertFalse(uart.canReceive());
        assertEquals("0123456789abcdef", drain());
        assertEquals(THRE | TEMT, r(LSR));
        assertTrue(uart.canReceive());
        assertEquals(3, uart.receive(in, 16, 3));
        assertEquals("XYZ", drain());
    }

    @Test
    void without16550FifoTheReceiverHoldsOneByte() {
        assertEquals(1, uart.receive(new byte[] {'a', 'b'}, 0, 2));
        assertEquals(0, uart.receive(new byte[] {'b'}, 0, 1));
        assertEquals('a', r(DATA));
        assertEquals(1, uart.receive(new byte[] {'b'}, 0, 1));
        assertEquals('b', r(DATA));
    }

    @Test
    void fcrReceiverResetClearsReceivedDataButTransmitResetDoesNot() {
        w(FCR, 0x01);
        feed("hello");
        w(FCR, 0x05); // FIFO enable + TX reset
        assertEquals(DR, r(LSR) & DR);
        w(FCR, 0x03); // FIFO enable + RX reset
        assertEquals(0, r(LSR) & DR);
        feed("ab");
        assertEquals("ab", drain());
    }

    @Test
    void disablingOrEnablingTheFifoFlushesTheReceiver() {
        w(FCR, 0x01);
        feed("abc");
        w(FCR, 0x00);
        assertEquals(0, r(LSR) & DR);
        feed("x");
        w(FCR, 0x01);
        assertEquals(0, r(LSR) & DR);
    }

    @Test
    void triggerLevelsDecideWhenReceivedDataInterruptFires() {
        int[][] cases = {{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}};
        for (int[] c : cases) {
            RecordingIrqLine line = new RecordingIrqLine();
            Uart16550 u = new Uart16550(OutputStream.nullOutputStream(), line);
            u.setImmediateTimeout(false); // isolate the trigger level from the timeout
            u.write(MCR, 1, OUT2);
            u.write(FCR, 1, c[0]);
            u.write(IER, 1, ERBFI);
            for (int n = 1; n < c[1]; n++) {
                assertEquals(1, u.receive(new byte[] {(byte) n}, 0, 1));
                assertEquals(0xc1, u.read(IIR, 1), "level " + c[1] + " after " + n);
                assertFalse(line.level(), "level " + c[1] + " after " + n);
            }
            assertEquals(1, u.receive(new byte[] {'!'}, 0, 1));
            assertEquals(0xc4, u.read(IIR, 1), "level " + c[1]);
            assertTrue(line.level(), "level " + c[1]);
            u.read(DATA, 1); // one below the trigger level: RDA goes away
            assertEquals(0xc1, u.read(IIR, 1), "level " + c[1]);
            assertFalse(line.level(), "level " + c[1]);
            assertEquals(List.of(true, false), line.calls());
        }
    }

    @Test
    void overrunWhenSeventeenthByteArrivesWithFifoFull() {
        w(FCR, 0x01);
        w(MCR, LOOP);
        for (int i = 0; i < 16; i++) {
            w(DATA, 'a' + i);
        }
        assertEquals(DR | THRE | TEMT, r(LSR));
        w(DATA, 'Z');
        assertEquals(DR | OE | THRE | TEMT, r(LSR));
        assertEquals(DR | THRE | TEMT, r(LSR)); // OE cleared by the read
        assertEquals("abcdefghijklmnop", drain()); // the 17th byte was lost, FIFO kept
    }

    @Test
    void overrunIn16450ModeReplacesTheUnreadByte() {
        w(MCR, LOOP);
        w(DATA, 'a');
        w(DATA, 'b');
        assertEquals(DR | OE | THRE | TEMT, r(LSR));
        assertEquals('b', r(DATA));
        assertEquals(THRE | TEMT, r(LSR));
    }

    @Test
    void hostReceiveIsFlowControlledAndNeverOverruns() {
        w(FCR, 0x01);
        byte[] in = new byte[17];
        assertEquals(16, uart.receive(in, 0, 17));
        assertEquals(0, uart.receive(in, 16, 1));
        assertEquals(DR | THRE | TEMT, r(LSR));
    }

    @Test
    void receiveChecksBounds() {
        assertThrows(IndexOutOfBoundsException.class, () -> uart.receive(new byte[4], 2, 3));
    }

    // ---------------------------------------------------------------------------------------------
    // Character timeout

    @Test
    void immediateTimeoutReportsDataBelowTriggerAtOnce() {
        w(MCR, OUT2);
        w(FCR, 0x81); // trigger 8
        w(IER, ERBFI);
        feed("a");
        assertEquals(0xcc, r(IIR));
        assertTrue(irq.level());
        feed("bcdefgh"); // 8 now: at the trigger level
        assertEquals(0xc4, r(IIR));
        assertEquals("abcdefgh", drain());
        assertEquals(0xc1, r(IIR));
        assertFalse(irq.level());
    }

    @Test
    void tickedTimeoutNeedsAQuietTickPeriodAndIsClearedByReading() {
        uart.setImmediateTimeout(false);
        w(MCR, OUT2);
        w(FCR, 0x81); // trigger 8
        w(IER, ERBFI);
        feed("abc");
        assertEquals(0xc1, r(IIR));
        uart.tick(); // there was a received character since the last tick
        assertEquals(0xc1, r(IIR));
        assertFalse(irq.level());
        uart.tick(); // a quiet period: timeout
        assertEquals(0xcc, r(IIR));
        assertTrue(irq.level());
        assertEquals('a', r(DATA)); // reading clears the timeout and restarts the timer
        assertEquals(0xc1, r(IIR));
        assertFalse(irq.level());
        uart.tick();
        assertEquals(0xc1, r(IIR));
        uart.tick();
        assertEquals(0xcc, r(IIR));
        assertEquals("bc", drain());
        uart.tick();
        uart.tick(); // empty FIFO: no timeout
        assertEquals(0xc1, r(IIR));
    }

    @Test
    void timeoutIsMaskedByErbfiAndAbsentWithoutFifo() {
        w(FCR, 0x81);
        feed("a");
        assertEquals(0xc1, r(IIR)); // ERBFI clear: nothing
        w(FCR, 0x00);
        feed("a");
        w(IER, ERBFI);
        assertEquals(0x04, r(IIR)); // 16450 mode: plain received-data interrupt
    }

    // ---------------------------------------------------------------------------------------------
    // Interrupt identification

    @Test
    void iirReportsCausesInPriorityOrder() {
        w(FCR, 0x01); // trigger 1
        w(IER, ERBFI | ETBEI | ELSI | EDSSI);
        w(MCR, LOOP | RTS); // loopback: also a modem status change
        for (int i = 0; i < 17; i++) {
            w(DATA, i); // the 17th overruns; every write leaves THR empty again
        }
        assertEquals(0xc6, r(IIR)); // receiver line status first
        assertEquals(0xc6, r(IIR)); // reading IIR does not clear it
        r(LSR);
        assertEquals(0xc4, r(IIR)); // then received data
        for (int i = 0; i < 16; i++) {
            r(DATA);
        }
        assertEquals(0xc2, r(IIR)); // then THR empty (not cleared by the earlier IIR reads)
        assertEquals(0xc0, r(IIR)); // that read cleared THRE: modem status
        r(MSR);
        assertEquals(0xc1, r(IIR));
    }

    @Test
    void receiverLineStatusInterruptNeedsElsi() {
        w(FCR, 0x01);
        w(MCR, LOOP);
        for (int i = 0; i < 17; i++) {
            w(DATA, i);
        }
        assertEquals(0xc1, r(IIR)); // no interrupts enabled
        w(IER, ELSI);
        assertEquals(0xc6, r(IIR));
        assertEquals(OE, r(LSR) & OE);
        assertEquals(0xc1, r(IIR));
    }

    @Test
    void threInterruptSetAndClearRules() {
        w(MCR, OUT2);
        assertEquals(0x01, r(IIR));
        w(IER, ETBEI); // enabling ETBEI with THR empty raises it
        assertTrue(irq.level());
        assertEquals(0x02, r(IIR)); // reported ...
        assertEquals(0x01, r(IIR)); // ... and cleared by that read
        assertFalse(irq.level());
        w(IER, ETBEI); // ETBEI already set: no new interrupt
        assertEquals(0x01, r(IIR));
        w(DATA, 'x'); // THR empties again after the write
        assertEquals(0x02, r(IIR));
        w(IER, 0);
        w(IER, ETBEI); // 0 -> 1 while THR empty
        assertEquals(0x02, r(IIR));
        w(IER, 0);
        assertEquals(0x01, r(IIR)); // masked while disabled
    }

    @Test
    void iirReadDoesNotClearThreWhenAnotherCauseIsReported() {
        w(MCR, OUT2);
        w(IER, ERBFI | ETBEI);
        feed("q");
        assertEquals(0x04, r(IIR)); // data outranks THRE
        assertEquals(0x04, r(IIR));
        r(DATA);
        assertEquals(0x02, r(IIR)); // THRE still pending
        assertEquals(0x01, r(IIR));
    }

    // ---------------------------------------------------------------------------------------------
    // Interrupt line

    @Test
    void irqLineFollowsCausesAndOut2OnlyOnChanges() {
        w(MCR, OUT2);
        assertEquals(List.of(), irq.calls());
        w(IER, ETBEI);
        assertEquals(List.of(true), irq.calls());
        r(IIR); // clears THRE
        assertEquals(List.of(true, false), irq.calls());
        w(DATA, 'a');
        assertEquals(List.of(true, false, true), irq.calls());
        w(DATA, 'b'); // still pending: no call
        w(SCR, 1);
        assertEquals(List.of(true, false, true), irq.calls());
        w(MCR, 0); // OUT2 gates the line
        assertEquals(List.of(true, false, true, false), irq.calls());
        assertEquals(0x02, r(IIR) & 0x0f); // the cause is still reported (and now cleared)
        w(DATA, 'c');
        w(MCR, OUT2);
        assertEquals(List.of(true, false, true, false, true), irq.calls());
        w(MCR, OUT2 | LOOP); // loopback forces the OUT2 pin inactive
        assertEquals(List.of(true, false, true, false, true, false), irq.calls());
        w(MCR, OUT2);
        assertEquals(List.of(true, false, true, false, true, false, true), irq.calls());
        uart.reset();
        assertEquals(List.of(true, false, true, false, true, false, true, false), irq.calls());
        assertFalse(uart.irqAsserted());
    }

    @Test
    void withoutOut2TheLineNeverRises() {
        w(IER, ERBFI | ETBEI | ELSI | EDSSI);
        feed("x");
        uart.setModemInputs(0);
        w(DATA, 'y');
        assertEquals(0, r(IIR) & 0x01);                                  // causes pending ...
        assertEquals(List.of(), irq.calls());                            // ... but the line stays low
        assertFalse(uart.irqAsserted());
    }

    @Test
    void receivedDataRaisesTheLineFromTheInputThread() {
        w(MCR, OUT2);
        w(IER, ERBFI);
        feed("k");
        assertEquals(List.of(true), irq.calls());
        r(DATA);
        assertEquals(List.of(true, false), irq.calls());
    }

    // ---------------------------------------------------------------------------------------------
    // Break

    @Test
    void breakIsAZeroCharacterFlaggedInLsr() {
        w(FCR, 0x01);
        w(IER, ELSI);
        feed("x");
        assertTrue(uart.receiveBreak());
        assertEquals(DR | RXFE | THRE | TEMT, r(LSR)); // break not at the top yet
        assertEquals(0xc1, r(IIR));
        assertEquals('x', r(DATA));
        assertEquals(0xc6, r(IIR)); // break reached the top: line status interrupt
        assertEquals(DR | BI | RXFE | THRE | TEMT, r(LSR));
        assertEquals(DR | RXFE | THRE | TEMT, r(LSR)); // BI cleared; FIFO still holds the error char
        assertEquals(0, r(DATA));
        assertEquals(RXFE | THRE | TEMT, r(LSR)); // bit 7 cleared by this read: no error left
        assertEquals(THRE | TEMT, r(LSR));
    }

    // ---------------------------------------------------------------------------------------------
    // Input flow control

    @Test
    void inputReadyCallbackRunsOnceWhenRoomAppearsAfterARefusal() {
        AtomicInteger calls = new AtomicInteger();
        uart.setInputReadyCallback(calls::incrementAndGet);
        w(FCR, 0x01);
        byte[] in = new byte[20];
        assertEquals(16, uart.receive(in, 0, 20));
        assertEquals(0, calls.get());
        r(DATA);
        assertEquals(1, calls.get());
        r(DATA);
        assertEquals(1, calls.get()); // no new refusal: no new call
        assertEquals(2, uart.receive(in, 0, 2));
        r(DATA);
        assertEquals(1, calls.get()); // accepted in full: no call
    }

    @Test
    void inputReadyCallbackRunsWhenLeavingLoopbackOrResettingFifo() {
        AtomicInteger calls = new AtomicInteger();
        uart.setInputReadyCallback(calls::incrementAndGet);
        w(MCR, LOOP);
        assertEquals(0, uart.receive(new byte[1], 0, 1));
        w(MCR, 0);
        assertEquals(1, calls.get());
        w(FCR, 0x01);
        assertEquals(16, uart.receive(new byte[17], 0, 17));
        w(FCR, 0x03);
        assertEquals(2, calls.get());
    }

    @Test
    void feedingThreadAndGuestExchangeManyBytesWithoutLossOrBusyPolling() throws Exception {
        w(FCR, 0x01);
        int total = 20_000;
        Semaphore room = new Semaphore(0);
        uart.setInputReadyCallback(room::release);
        Thread feeder = new Thread(() -> {
            byte[] data = new byte[total];
            for (int i = 0; i < total; i++) {
                data[i] = (byte) i;
            }
            int off = 0;
            try {
                while (off < total) {
                    int n = uart.receive(data, off, Math.min(64, total - off));
                    off += n;
                    if (off < total && n == 0) {
                        if (!room.tryAcquire(10, TimeUnit.SECONDS)) {
                            throw new AssertionError("lost wakeup at " + off);
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        feeder.start();
        int got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (got < total && System.nanoTime() < deadline) {
            if ((r(LSR) & DR) != 0) {
                assertEquals(got & 0xff, r(DATA), "byte " + got);
                got++;
            } else {
                Thread.onSpinWait();
            }
        }
        feeder.join(10_000);
        assertEquals(total, got);
    }

    // ---------------------------------------------------------------------------------------------
    // Reset and state

    @Test
    void resetRestoresPowerOnState() {
        w(LCR, 0x83);
        w(DATA, 1);
        w(LCR, 0x1b);
        w(IER, 0x0f);
        w(FCR, 0xc1);
        w(MCR, 0x1f);
        w(SCR, 0x55);
        feed("");
        uart.reset();
        assertEquals(THRE | TEMT, r(LSR));
        assertEquals(0x01, r(IIR));
        assertEquals(0, r(IER));
        assertEquals(0, r(LCR));
        assertEquals(0, r(MCR));
        assertEquals(0xb0, r(MSR));
        assertEquals(0, r(SCR));
        assertEquals(Uart16550.DEFAULT_DIVISOR, uart.divisor());
    }

    @Test
    void describeIsTheStateLine() {
        assertEquals(uart.state(), uart.describe());
        assertTrue(uart.describe().startsWith("COM1: 9600 5N1 dl=12 "), uart.describe());
    }

    @Test
    void stateSummarisesRegistersWithoutSideEffects() {
        w(LCR, 0x83);
        w(DATA, 1);
        w(IER, 0);
        w(LCR, 0x03);
        w(MCR, OUT2);
        w(IER, ETBEI);
        String s = uart.state();
        assertTrue(s.startsWith("COM1: 115200 8N1 "), s);
        assertTrue(s.contains("iir=02"), s);
        assertTrue(s.contains("irq=1"), s);
        assertEquals(0x02, r(IIR)); // state() did not clear THRE
        w(LCR, 0x1a); // 7 data bits, even parity, 1 stop bit
        assertTrue(uart.state().contains(" 7E1 "), uart.state());
    }

    // ---------------------------------------------------------------------------------------------
    // Posted writes (KVM's coalesced PIO on THR)

    @Test
    void thrWritesArePostableOnlyWhileTheyDoNothingButSend() {
        AtomicInteger changes = new AtomicInteger();
        uart.onPostableChange(changes::incrementAndGet);
        assertEquals(DATA, uart.postedOffset());
        assertTrue(uart.writesPostable(), "after power-on: DLAB, ETBEI and LOOP are off");
        w(LCR, 0x83); // DLAB: offset 0 is the divisor latch
        assertFalse(uart.writesPostable());
        w(LCR, 0x03);
        assertTrue(uart.writesPostable());
        w(IER, ETBEI); // a THR write then raises an interrupt
        assertFalse(uart.writesPostable());
        w(IER, ERBFI); // receive interrupts do not matter to THR
        assertTrue(uart.writesPostable());
        w(MCR, LOOP | OUT2); // a THR write then lands in the receiver
        assertFalse(uart.writesPostable());
        w(MCR, OUT2);
        assertEquals(6, changes.get(), "one call per change, none for the writes that changed nothing");
        w(DATA, 'x');
        w(SCR, 0x55);
        w(FCR, 0x07);
        assertEquals(6, changes.get());
        w(MCR, LOOP);
        uart.reset();
        assertTrue(uart.writesPostable());
        assertEquals(8, changes.get(), "a reset always tells");
        Uart16550.State looped = uart.saveState();
        w(IER, ETBEI);
        uart.restoreState(looped);
        assertTrue(uart.writesPostable());
        assertEquals(10, changes.get(), "a restore always tells");
        uart.onPostableChange(null);
        w(IER, ETBEI);
        assertEquals(10, changes.get());
    }

    @Test
    void aReplayedThrWriteIsTheWriteItStoodFor() {
        w(DATA, 'a');
        w(DATA, 'b'); // what the VMM replays from KVM's ring: the same write, later
        assertEquals("ab", out.toString(StandardCharsets.ISO_8859_1));
        assertEquals(0x01, r(IIR), "no interrupt: ETBEI is off");
    }
}
