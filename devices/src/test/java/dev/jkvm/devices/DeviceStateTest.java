package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.devices.state.StateCodec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Every device's state: saved from one instance, through the snapshot file's bytes, restored into
 * a fresh instance, which then answers the guest as the first one would have.
 */
class DeviceStateTest {

    /** The state through {@link StateCodec}, as a snapshot file carries it. */
    @SuppressWarnings("unchecked")
    static <R extends Record> R viaBytes(R state) {
        return StateCodec.decode((Class<R>) state.getClass(), StateCodec.encode(state));
    }

    @Test
    void uartKeepsItsRegistersAndReceiveFifo() {
        RecordingIrqLine irq = new RecordingIrqLine();
        Uart16550 a = new Uart16550("COM1", new ByteArrayOutputStream(), irq);
        a.write(3, 1, 0x80); // DLAB
        a.write(0, 1, 0x01); // divisor 1
        a.write(3, 1, 0x03); // 8N1
        a.write(2, 1, 0xc7); // FIFOs on, 14-byte trigger
        a.write(4, 1, 0x0b); // DTR RTS OUT2
        a.write(7, 1, 0x5a);
        a.write(1, 1, 0x01); // received-data interrupt
        a.receive("hey".getBytes(StandardCharsets.US_ASCII), 0, 3);
        assertEquals('h', a.read(0, 1));

        RecordingIrqLine irq2 = new RecordingIrqLine();
        Uart16550 b = new Uart16550("COM1", new ByteArrayOutputStream(), irq2);
        b.restoreState(viaBytes(a.saveState()));
        assertEquals(a.state(), b.state());
        assertEquals(1, b.divisor());
        assertEquals(0x5a, b.read(7, 1));
        assertEquals(irq.level(), irq2.level());
        assertEquals('e', b.read(0, 1));
        assertEquals('y', b.read(0, 1));
        assertEquals(0, b.read(5, 1) & 1, "the FIFO is empty after the saved characters");
        assertEquals('e', a.read(0, 1), "the source goes on by itself");
    }

    @Test
    void aCorruptUartStateIsRefused() {
        byte[] bytes = StateCodec.encode(new Uart16550("COM1", new ByteArrayOutputStream(), l -> { }).saveState());
        assertThrows(IllegalArgumentException.class,
                () -> StateCodec.decode(Uart16550.State.class, Arrays.copyOf(bytes, bytes.length - 1)));
        assertThrows(IllegalArgumentException.class,
                () -> StateCodec.decode(Uart16550.State.class, Arrays.copyOf(bytes, bytes.length + 1)));
        byte[] huge = bytes.clone();
        // rxData's length: after 9 ints and 4 booleans
        int at = 4 * 7 + 1 + 4 + 4 + 1 + 1 + 1;
        huge[at] = 0x7f;
        assertThrows(IllegalArgumentException.class, () -> StateCodec.decode(Uart16550.State.class, huge));
    }

    @Test
    void rtcGoesOnFromTheSavedTime() {
        FakeTime t1 = new FakeTime(Instant.parse("2025-03-09T13:45:27Z"));
        RecordingIrqLine irq = new RecordingIrqLine();
        CmosRtc a = new CmosRtc(new CmosMachineInfo(128L << 20, 0, 1), t1, ZoneOffset.UTC, t1, irq);
        a.write(0, 1, 0x0b);
        a.write(1, 1, 0x02 | 0x40); // 24 h, periodic interrupt
        a.setRamByte(0x40, 0x33);
        a.write(0, 1, 0x01);
        a.write(1, 1, 0x59); // seconds alarm
        CmosRtc.State saved = viaBytes(a.saveState());

        // Restored an hour later on another machine: the clock shows the saved time, and runs.
        FakeTime t2 = new FakeTime(Instant.parse("2025-03-09T14:45:27Z"));
        RecordingIrqLine irq2 = new RecordingIrqLine();
        CmosRtc b = new CmosRtc(new CmosMachineInfo(128L << 20, 0, 1), t2, ZoneOffset.UTC, t2, irq2);
        b.restoreState(saved);
        assertEquals("2025-03-09 13:45:27", b.rtcTime());
        assertEquals(0x33, b.ramByte(0x40));
        assertEquals(0x59, b.ramByte(0x01));
        assertEquals(0x42, b.ramByte(0x0b));
        t2.advanceNanos(2_000_000_000L);
        assertEquals("2025-03-09 13:45:29", b.rtcTime());
        assertTrue(irq2.level(), "the periodic interrupt fires again after the restore");
    }

    @Test
    void pmTimerGoesOnFromTheSavedCount() {
        FakeTime t1 = new FakeTime(0);
        AcpiPmBlock a = new AcpiPmBlock(AcpiPmBlock.Config.QEMU_PIIX4, new RecordingSystemControl(),
                new RecordingIrqLine(), t1, t1);
        t1.advanceNanos(1_000_000_000L);
        a.pm1ControlBlock().write(0, 2, 0x0001);
        AcpiPmBlock.State saved = viaBytes(a.saveState());

        FakeTime t2 = new FakeTime(50_000_000_000L);
        AcpiPmBlock b = new AcpiPmBlock(AcpiPmBlock.Config.QEMU_PIIX4, new RecordingSystemControl(),
                new RecordingIrqLine(), t2, t2);
        b.restoreState(saved);
        assertEquals(a.pmTimer(), b.pmTimer(), 1);
        assertEquals(a.pm1Control(), b.pm1Control());
        t2.advanceNanos(1_000_000L);
        assertTrue(b.pmTimer() > a.pmTimer());
    }

    @Test
    void keyboardControllerKeepsItsQueueAndCommandByte() {
        RecordingIrqLine k1 = new RecordingIrqLine();
        I8042 a = new I8042(new RecordingSystemControl(), k1, new RecordingIrqLine());
        a.statusCommandPort().write(0, 1, 0x60); // write command byte
        a.dataPort().write(0, 1, 0x45);
        a.statusCommandPort().write(0, 1, 0xaa); // self test: 0x55 queued
        RecordingIrqLine k2 = new RecordingIrqLine();
        I8042 b = new I8042(new RecordingSystemControl(), k2, new RecordingIrqLine());
        b.restoreState(viaBytes(a.saveState()));
        assertEquals(a.describe(), b.describe());
        assertEquals(k1.level(), k2.level());
        assertEquals(a.dataPort().read(0, 1), b.dataPort().read(0, 1));
    }

    @Test
    void fwCfgKeepsTheGuestsCursor() {
        FwCfg a = new FwCfg(128L << 20, 2, 8);
        FwCfg b = new FwCfg(128L << 20, 2, 8);
        a.write(0, 2, 0x0000); // the signature
        assertEquals('Q', a.read(1, 1));
        b.restoreState(viaBytes(a.saveState()));
        assertEquals('E', b.read(1, 1));
        assertEquals('M', b.read(1, 1));
    }

    @Test
    void pciKeepsConfigAddressAndConfigSpace() {
        PciHostBridge a = new PciHostBridge();
        a.addressPort().write(0, 4, 0x8000_0004); // 00:00.0 COMMAND
        a.dataPort().write(0, 2, 0x0000);
        a.addressPort().write(0, 4, 0x8000_0040);
        a.dataPort().write(0, 4, 0x1234_5678);
        PciHostBridge b = new PciHostBridge();
        b.restoreState(viaBytes(a.saveState()));
        assertEquals(a.configAddress(), b.configAddress());
        assertEquals(0x1234_5678, b.dataPort().read(0, 4));
        assertArrayEquals(a.hostBridge().configBytes(), b.hostBridge().configBytes());
    }

    @Test
    void resetRegistersKeepTheirValueWithoutResetting() {
        RecordingSystemControl control = new RecordingSystemControl();
        SystemControlPortA a = new SystemControlPortA(control);
        a.write(0, 1, 0x02);
        SystemControlPortA b = new SystemControlPortA(control);
        b.restoreState(viaBytes(a.saveState()));
        assertTrue(b.a20Enabled());
        ResetControlRegister c = new ResetControlRegister(control);
        c.write(0, 1, 0x02);
        ResetControlRegister d = new ResetControlRegister(control);
        d.restoreState(viaBytes(c.saveState()));
        assertEquals(0x02, d.read(0, 1));
        assertEquals(java.util.List.of(), control.calls(), "restoring is not the guest's write");
    }

    @Test
    void pcTestdevKeepsItsScratchRegisterIoramAndLines() {
        PcTestdev a = new PcTestdev(n -> level -> { }, page -> { });
        a.ioport().write(0, 4, 0x12345678);
        a.iomem().write(0x100, 4, 0xcafef00dL);
        a.irqPorts().write(10, 1, 1);
        java.util.List<String> lines = new java.util.ArrayList<>();
        PcTestdev b = new PcTestdev(n -> level -> { if (level) lines.add("irq" + n); }, page -> { });
        b.restoreState(viaBytes(a.saveState()));
        assertEquals(0x12345678, b.ioportData());
        assertEquals(0xcafef00dL, b.iomem().read(0x100, 4));
        assertTrue(b.level(10));
        assertEquals(java.util.List.of("irq10"), lines, "the raised line is driven high again");
    }

    @Test
    void pciTestdevKeepsItsBarsTestAndCounts() {
        PortBus ports = new PortBus();
        MmioBus mmio = new MmioBus();
        PciTestdev a = new PciTestdev(ports, mmio);
        a.assignAsFirmware(PciTestdev.DEFAULT_MMIO_BASE, PciTestdev.DEFAULT_IO_BASE);
        a.writeConfig(0x14, 4, 0xd000); // BAR1 moved by the guest
        a.io().write(0, 1, 0);           // select portio-no-eventfd
        int notify = a.io().read(4, 1) | a.io().read(5, 1) << 8;
        a.io().write(notify, 1, 0xfa);
        a.io().write(notify, 1, 0xfa);
        PortBus ports2 = new PortBus();
        MmioBus mmio2 = new MmioBus();
        PciTestdev b = new PciTestdev(ports2, mmio2);
        b.assignAsFirmware(PciTestdev.DEFAULT_MMIO_BASE, PciTestdev.DEFAULT_IO_BASE);
        b.restoreState(viaBytes(a.saveState()));
        assertEquals(a.describe(), b.describe());
        assertEquals(0xd000, b.mappedIo(), "decoded where the saved BAR says");
        assertEquals(2, b.io().read(12, 1), "the notification count");
    }
}
