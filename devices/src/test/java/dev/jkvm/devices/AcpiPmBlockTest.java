package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AcpiPmBlockTest {

    static final int EVT = 0x600, CNT = 0x604, TMR = 0x608, GPE = 0xafe0, SMI = 0xb2;
    static final long SECOND = 1_000_000_000L;

    final FakeTime time = new FakeTime(123_456_789L);
    final RecordingSystemControl control = new RecordingSystemControl();
    final RecordingIrqLine sci = new RecordingIrqLine();
    final AcpiPmBlock pm = new AcpiPmBlock(AcpiPmBlock.Config.QEMU_PIIX4, control, sci, time, time);
    final PortBus bus = new PortBus();

    AcpiPmBlockTest() {
        pm.registerOn(bus, AcpiPmBlock.Ports.QEMU_PIIX4);
    }

    // ---------------------------------------------------------------------------------------------
    // PM timer

    @Test
    void timerCountsAt3579545HzFromTheClock() {
        assertEquals(0, bus.read(TMR, 4));
        time.advanceNanos(SECOND);
        assertEquals(3_579_545, bus.read(TMR, 4));
        time.advanceNanos(SECOND / 1000);
        assertEquals(3_579_545 + 3_579, bus.read(TMR, 4)); // 3579.545 ticks in a millisecond
    }

    @Test
    void timerIsNotBumpedByReads() {
        time.advanceNanos(12_345);
        int first = bus.read(TMR, 4);
        for (int i = 0; i < 100; i++) {
            assertEquals(first, bus.read(TMR, 4));
        }
        assertEquals(first & 0xff, bus.read(TMR, 1));
        assertEquals(first >>> 8 & 0xffff, bus.read(TMR + 1, 2));
    }

    @Test
    void timerIs24BitsAndWraps() {
        time.advanceNanos(5 * SECOND);
        assertEquals((5 * 3_579_545) & 0xff_ffff, bus.read(TMR, 4));
        time.advanceNanos(3600 * SECOND); // an hour later: still exact, no overflow in the arithmetic
        assertEquals((3605L * 3_579_545) & 0xff_ffff, bus.read(TMR, 4));
    }

    @Test
    void timerCanBe32Bits() {
        AcpiPmBlock wide = new AcpiPmBlock(new AcpiPmBlock.Config(true, false, 0xf1, 0xf0), control,
                IrqLine.none(), time, time);
        time.advanceNanos(5 * SECOND);
        assertEquals(5 * 3_579_545, wide.pmTimer());
        time.advanceNanos(1000 * SECOND);
        assertEquals((int) (1005L * 3_579_545), wide.pmTimer());
        time.advanceNanos(3 * 3600 * SECOND); // past 2^63 ns x Hz territory for naive arithmetic
        assertEquals((int) ((1005L + 3 * 3600) * 3_579_545), wide.pmTimer());
    }

    @Test
    void tmrStsSetWhenBit23TogglesAndRaisesSciWhenEnabled() {
        long toggle = Math.ceilDiv((1L << 23) * SECOND, 3_579_545); // ~2.34 s
        time.advanceNanos(toggle - 1);
        assertEquals(0, bus.read(EVT, 2) & AcpiPmBlock.TMR_STS);
        time.advanceNanos(1);
        assertEquals(AcpiPmBlock.TMR_STS, bus.read(EVT, 2) & AcpiPmBlock.TMR_STS);
        assertFalse(sci.level()); // TMR_EN off
        bus.write(EVT, 2, AcpiPmBlock.TMR_STS); // write 1 to clear
        assertEquals(0, bus.read(EVT, 2));

        bus.write(EVT + 2, 2, AcpiPmBlock.TMR_STS); // TMR_EN
        assertEquals(1, time.pending());
        time.advanceNanos(toggle - 2); // just before the next toggle (at 2 x toggle)
        assertFalse(sci.level());
        time.advanceNanos(2);
        assertTrue(sci.level()); // raised by the scheduled task, no guest access needed
        assertEquals(0, time.pending());
        bus.write(EVT, 2, AcpiPmBlock.TMR_STS);
        assertFalse(sci.level());
        assertEquals(1, time.pending());
    }

    @Test
    void readingStatusDoesNotChurnTheScheduler() {
        bus.write(EVT + 2, 2, AcpiPmBlock.TMR_STS);
        int scheduled = time.pending();
        for (int i = 0; i < 50; i++) {
            bus.read(EVT, 2);
        }
        assertEquals(scheduled, time.pending());
        time.advanceNanos(60 * SECOND);
        assertEquals(1, time.ran()); // one task per carry while the SCI was low, then none while high
    }

    // ---------------------------------------------------------------------------------------------
    // PM1 status, enable, SCI

    @Test
    void powerButtonStatusIsWriteOneToClearAndDrivesTheSciLevel() {
        pm.pressPowerButton();
        assertEquals(AcpiPmBlock.PWRBTN_STS, bus.read(EVT, 2));
        assertFalse(sci.level()); // not enabled
        bus.write(EVT + 2, 2, AcpiPmBlock.PWRBTN_STS); // PWRBTN_EN
        assertEquals(AcpiPmBlock.PWRBTN_STS, bus.read(EVT + 2, 2));
        assertTrue(sci.level());
        bus.write(EVT, 2, 0x0000); // writing 0s clears nothing
        assertTrue(sci.level());
        bus.write(EVT, 2, 0xfeff); // all other bits: PWRBTN stays
        assertTrue(sci.level());
        bus.write(EVT, 2, AcpiPmBlock.PWRBTN_STS);
        assertEquals(0, bus.read(EVT, 2));
        assertFalse(sci.level());
        assertEquals(List.of(true, false), sci.calls());
    }

    @Test
    void dwordAccessCoversStatusAndEnable() {
        pm.pressPowerButton();
        bus.write(EVT, 4, AcpiPmBlock.PWRBTN_STS << 16); // enable only
        assertEquals(AcpiPmBlock.PWRBTN_STS << 16 | AcpiPmBlock.PWRBTN_STS, bus.read(EVT, 4));
        assertTrue(sci.level());
        bus.write(EVT + 3, 1, 0); // high enable byte: PWRBTN_EN off
        assertFalse(sci.level());
    }

    @Test
    void enableKeepsOnlyDefinedBits() {
        bus.write(EVT + 2, 2, 0xffff);
        assertEquals(0x0721, bus.read(EVT + 2, 2));
    }

    @Test
    void wakeStatusIsSetByWakeAndCleared() {
        pm.wake();
        assertEquals(AcpiPmBlock.WAK_STS, bus.read(EVT, 2));
        assertFalse(sci.level());
        bus.write(EVT, 2, AcpiPmBlock.WAK_STS);
        assertEquals(0, bus.read(EVT, 2));
    }

    // ---------------------------------------------------------------------------------------------
    // PM1 control

    @Test
    void slpEnCallsSleepWithTheSlpTypWritten() {
        bus.write(CNT, 2, 0x2000 | 0 << 10 | 1); // S5 on QEMU's tables, SCI_EN kept
        assertEquals(List.of("sleep 0"), control.calls());
        bus.write(CNT, 2, 0x2000 | 5 << 10 | 1);
        assertEquals(List.of("sleep 0", "sleep 5"), control.calls());
        assertEquals(5 << 10 | 1, bus.read(CNT, 2)); // SLP_EN reads 0; SLP_TYP and SCI_EN kept
    }

    @Test
    void slpTypWithoutSlpEnIsOnlyStored() {
        bus.write(CNT, 2, 3 << 10);
        assertEquals(List.of(), control.calls());
        assertEquals(3 << 10, bus.read(CNT, 2));
        bus.write(CNT + 1, 1, 0x20 | 7 << 2); // byte write of the high half with SLP_EN
        assertEquals(List.of("sleep 7"), control.calls());
    }

    @Test
    void smiCommandSwitchesAcpiMode() {
        assertEquals(0, bus.read(CNT, 2) & AcpiPmBlock.SCI_EN);
        bus.write(SMI, 1, 0xf1);
        assertEquals(AcpiPmBlock.SCI_EN, bus.read(CNT, 2) & AcpiPmBlock.SCI_EN);
        assertEquals(0xf1, bus.read(SMI, 1));
        bus.write(SMI, 1, 0xf0);
        assertEquals(0, bus.read(CNT, 2) & AcpiPmBlock.SCI_EN);
        bus.write(SMI + 1, 1, 0x42);
        assertEquals(0x42, bus.read(SMI + 1, 1));
    }

    @Test
    void sciEnabledAtResetWhenConfigured() {
        AcpiPmBlock reduced = new AcpiPmBlock(new AcpiPmBlock.Config(false, true, 0, 0), control,
                IrqLine.none(), time, time);
        assertEquals(AcpiPmBlock.SCI_EN, reduced.pm1Control());
    }

    // ---------------------------------------------------------------------------------------------
    // GPE0, reset, describe

    @Test
    void gpe0IsZeroAndDrivesTheSciWhenUsed() {
        assertEquals(0, bus.read(GPE, 4));
        pm.raiseGpe(1);
        assertEquals(0x0002, bus.read(GPE, 2));
        assertFalse(sci.level());
        bus.write(GPE + 2, 2, 0x0002);
        assertTrue(sci.level());
        bus.write(GPE, 2, 0x0002);
        assertFalse(sci.level());
        assertEquals(0x0002 << 16, bus.read(GPE, 4));
    }

    @Test
    void resetClearsEventsAndLowersTheSci() {
        bus.write(EVT + 2, 2, AcpiPmBlock.PWRBTN_STS | AcpiPmBlock.TMR_STS);
        pm.pressPowerButton();
        bus.write(SMI, 1, 0xf1);
        assertTrue(sci.level());
        pm.reset();
        assertFalse(sci.level());
        assertEquals(0, bus.read(EVT, 4));
        assertEquals(0, bus.read(CNT, 2));
        assertEquals(0, time.pending());
    }

    @Test
    void describeShowsTheRegisters() {
        pm.pressPowerButton();
        assertTrue(pm.describe().startsWith("acpi-pm: PM1_STS=0100 PM1_EN=0000 PM1_CNT=0000"), pm.describe());
        assertEquals(pm.describe(), bus.deviceAt(TMR).describe());
    }
}
