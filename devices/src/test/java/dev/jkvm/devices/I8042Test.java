package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class I8042Test {

    static final int OBF = 0x01, SYS = 0x04, CMD = 0x08, UNLOCKED = 0x10, AUX_OBF = 0x20, TIMEOUT = 0x40;

    final RecordingSystemControl control = new RecordingSystemControl();
    final RecordingIrqLine irq1 = new RecordingIrqLine();
    final RecordingIrqLine irq12 = new RecordingIrqLine();
    final I8042 kbc = new I8042(control, irq1, irq12);
    final PortBus bus = new PortBus();

    I8042Test() {
        kbc.registerOn(bus);
    }

    int status() {
        return bus.read(0x64, 1);
    }

    int data() {
        return bus.read(0x60, 1);
    }

    void command(int c) {
        bus.write(0x64, 1, c);
    }

    void send(int b) {
        bus.write(0x60, 1, b);
    }

    @Test
    void powerOnStatusAndCommandByte() {
        assertEquals(UNLOCKED | SYS, status());
        command(0x20);
        assertEquals(OBF | UNLOCKED | SYS | CMD, status());
        assertEquals(0x65, data());
        assertEquals(UNLOCKED | SYS | CMD, status());
        assertEquals(0xff, bus.read(0x61, 1)); // not ours
    }

    @Test
    void selfTestsReturnTheirPassCodes() {
        command(0xaa);
        assertEquals(0x55, data());
        command(0xab);
        assertEquals(0x00, data());
        command(0xa9);
        assertEquals(0x00, data());
    }

    @Test
    void readingAnEmptyBufferReturnsTheLastByte() {
        command(0xaa);
        assertEquals(0x55, data());
        assertEquals(0x55, data());
        assertEquals(0, status() & OBF);
    }

    @Test
    void writingTheCommandByte() {
        command(0x60);
        send(0x47);
        assertEquals(0x47, kbc.commandByte());
        command(0x20);
        assertEquals(0x47, data());
        command(0xa8); // enable AUX
        command(0xad); // disable keyboard
        assertEquals(0x47 | 0x10, kbc.commandByte());
        command(0xae);
        command(0xa7);
        assertEquals(0x47 | 0x20, kbc.commandByte());
    }

    @Test
    void commandFePulsesReset() {
        command(0xfe);
        assertEquals(List.of("reset"), control.calls());
        command(0xff); // bit 0 set: pulses nothing
        command(0xfd); // bit 1 only (A20 line): no reset
        assertEquals(List.of("reset"), control.calls());
    }

    @Test
    void outputPortBit0ClearResetsAndBit1IsA20() {
        command(0xd0);
        assertEquals(0xcf, data());
        command(0xd1);
        send(0xdd); // A20 off, not in reset
        assertFalse(kbc.a20Enabled());
        assertEquals(List.of(), control.calls());
        command(0xd1);
        send(0xdf);
        assertTrue(kbc.a20Enabled());
        command(0xd1);
        send(0xde); // bit 0 clear: reset
        assertEquals(List.of("reset"), control.calls());
        command(0xdd);
        assertFalse(kbc.a20Enabled());
        command(0xdf);
        assertTrue(kbc.a20Enabled());
    }

    @Test
    void keyboardResetAndIdentifyRaiseIrq1PerByte() {
        send(0xff);
        assertTrue(irq1.level());
        assertEquals(OBF, status() & (OBF | AUX_OBF));
        assertEquals(0xfa, data());
        assertTrue(irq1.level()); // the next byte loaded: the line fell and rose again
        assertEquals(0xaa, data());
        assertFalse(irq1.level());
        assertEquals(List.of(true, false, true, false), irq1.calls());

        send(0xf2);
        assertEquals(0xfa, data());
        assertEquals(0xab, data());
        assertEquals(0x41, data()); // translated (CTR bit 6)
        command(0x60);
        send(0x01); // translation off
        send(0xf2);
        data();
        data();
        assertEquals(0x83, data());
    }

    @Test
    void keyboardParametersAndScancodeSet() {
        send(0xed); // LEDs
        assertEquals(0xfa, data());
        send(0x07);
        assertEquals(0xfa, data());
        send(0xf0);
        assertEquals(0xfa, data());
        send(0x00); // query
        assertEquals(0xfa, data());
        assertEquals(0x41, data()); // set 2, translated
        send(0xee);
        assertEquals(0xee, data());
        send(0xf4);
        assertEquals(0xfa, data());
    }

    @Test
    void noInterruptWhenDisabledInTheCommandByte() {
        command(0x60);
        send(0x44); // KBD_INT off
        send(0xf4);
        assertEquals(OBF, status() & OBF);
        assertEquals(List.of(), irq1.calls());
    }

    @Test
    void auxDeviceIsAbsentAndAnswersWithTimeout() {
        command(0x60);
        send(0x47 & ~0x20 | 0x02); // AUX enabled, AUX interrupt on
        command(0xd4);
        send(0xff); // reset the mouse
        assertEquals(OBF | AUX_OBF | TIMEOUT, status() & (OBF | AUX_OBF | TIMEOUT));
        assertTrue(irq12.level());
        assertFalse(irq1.level());
        assertEquals(0xfe, data());
        assertFalse(irq12.level());
    }

    @Test
    void auxLoopbackEchoesAsAuxData() {
        command(0xd3);
        send(0x5a);
        assertEquals(OBF | AUX_OBF, status() & (OBF | AUX_OBF | TIMEOUT));
        assertEquals(0x5a, data());
        command(0xd2);
        send(0x33);
        assertEquals(OBF, status() & (OBF | AUX_OBF));
        assertEquals(0x33, data());
    }

    @Test
    void resetRestoresPowerOnState() {
        command(0x60);
        send(0x00);
        send(0xff);
        kbc.reset();
        assertEquals(UNLOCKED | SYS, status());
        assertEquals(0x65, kbc.commandByte());
        assertFalse(irq1.level());
        assertTrue(kbc.describe().startsWith("i8042: status=14 ctr=65 outport=cf"), kbc.describe());
    }
}
