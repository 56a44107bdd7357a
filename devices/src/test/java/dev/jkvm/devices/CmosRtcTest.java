package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class CmosRtcTest {

    static final int SEC = 0x00, SEC_ALARM = 0x01, MIN = 0x02, MIN_ALARM = 0x03, HOUR = 0x04,
            HOUR_ALARM = 0x05, DOW = 0x06, DAY = 0x07, MONTH = 0x08, YEAR = 0x09, A = 0x0a, B = 0x0b,
            C = 0x0c, D = 0x0d, CENTURY = 0x32;
    static final int SET = 0x80, PIE = 0x40, AIE = 0x20, UIE = 0x10, BINARY = 0x04, H24 = 0x02;
    static final long MS = 1_000_000L;

    /** Sunday 2025-03-09 13:45:27 UTC. */
    final FakeTime time = new FakeTime(Instant.parse("2025-03-09T13:45:27Z"));
    final RecordingIrqLine irq = new RecordingIrqLine();
    final CmosRtc rtc = new CmosRtc(new CmosMachineInfo(128L << 20, 0, 1), time, ZoneOffset.UTC, time, irq);

    int r(int reg) {
        rtc.write(0, 1, reg);
        return rtc.read(1, 1);
    }

    void w(int reg, int value) {
        rtc.write(0, 1, reg);
        rtc.write(1, 1, value);
    }

    // ---------------------------------------------------------------------------------------------
    // Index port, NMI mask

    @Test
    void indexPortBit7MasksNmiAndIsNotPartOfTheIndex() {
        assertFalse(rtc.nmiMasked());
        rtc.write(0, 1, 0x80 | 0x40);
        assertTrue(rtc.nmiMasked());
        rtc.write(1, 1, 0x5a); // index 0x40: the NMI bit did not leak into the index
        rtc.write(0, 1, 0x40);
        assertFalse(rtc.nmiMasked());
        assertEquals(0x5a, rtc.read(1, 1));
        assertEquals(0x5a, rtc.ramByte(0x40));
    }

    @Test
    void indexPortReadsAllOnesAndWideAccessesSplitIntoBytes() {
        assertEquals(0xff, rtc.read(0, 1));
        rtc.write(0, 2, 0x33 << 8 | 0x41); // outw 0x70: index 0x41, data 0x33
        assertEquals(0x33, r(0x41));
        rtc.write(0, 1, 0x41);
        assertEquals(0x33ff, rtc.read(0, 2)); // 0x70 floats, 0x71 the byte
    }

    // ---------------------------------------------------------------------------------------------
    // Clock formats at a fixed time

    @Test
    void powerOnStatusRegisters() {
        assertEquals(0x26, r(A));
        assertEquals(H24, r(B)); // 24-hour, BCD
        assertEquals(0x00, r(C));
        assertEquals(0x80, r(D)); // valid RAM and time
    }

    @Test
    void bcdTwentyFourHour() {
        assertEquals(0x27, r(SEC));
        assertEquals(0x45, r(MIN));
        assertEquals(0x13, r(HOUR));
        assertEquals(0x01, r(DOW)); // Sunday
        assertEquals(0x09, r(DAY));
        assertEquals(0x03, r(MONTH));
        assertEquals(0x25, r(YEAR));
        assertEquals(0x20, r(CENTURY));
    }

    @Test
    void binaryTwentyFourHour() {
        w(B, BINARY | H24);
        assertEquals(27, r(SEC));
        assertEquals(45, r(MIN));
        assertEquals(13, r(HOUR));
        assertEquals(1, r(DOW));
        assertEquals(9, r(DAY));
        assertEquals(3, r(MONTH));
        assertEquals(25, r(YEAR));
        assertEquals(20, r(CENTURY));
    }

    @Test
    void twelveHourModeFlagsPmInBit7() {
        w(B, 0); // BCD, 12-hour
        assertEquals(0x80 | 0x01, r(HOUR)); // 1 PM
        w(B, BINARY);
        assertEquals(0x80 | 1, r(HOUR));

        CmosRtc midnight = rtcAt("2025-03-09T00:10:00Z");
        midnight.write(0, 1, B);
        midnight.write(1, 1, 0);
        assertEquals(0x12, readReg(midnight, HOUR)); // 12 AM
        CmosRtc noon = rtcAt("2025-03-09T12:10:00Z");
        noon.write(0, 1, B);
        noon.write(1, 1, BINARY);
        assertEquals(0x80 | 12, readReg(noon, HOUR)); // 12 PM
        CmosRtc late = rtcAt("2025-03-09T23:59:00Z");
        late.write(0, 1, B);
        late.write(1, 1, 0);
        assertEquals(0x80 | 0x11, readReg(late, HOUR)); // 11 PM
    }

    @Test
    void zoneShiftsTheRegisters() {
        CmosRtc berlin = new CmosRtc(new CmosMachineInfo(1L << 20, 0, 1),
                new FakeTime(Instant.parse("2025-01-15T23:30:00Z")), ZoneId.of("Europe/Berlin"),
                time, IrqLine.none());
        assertEquals(0x00, readReg(berlin, HOUR)); // 00:30 CET on the 16th
        assertEquals(0x16, readReg(berlin, DAY));
        assertEquals(0x05, readReg(berlin, DOW)); // Thursday
    }

    @Test
    void clockAdvancesAcrossDaysMonthsYearsAndCenturies() {
        CmosRtc r = rtcAt("2099-12-31T23:59:59Z");
        FakeTime t = lastTime;
        assertEquals(0x99, readReg(r, YEAR));
        assertEquals(0x20, readReg(r, CENTURY));
        t.advanceNanos(1_000_000_000L);
        assertEquals(0x00, readReg(r, SEC));
        assertEquals(0x00, readReg(r, HOUR));
        assertEquals(0x01, readReg(r, DAY));
        assertEquals(0x01, readReg(r, MONTH));
        assertEquals(0x00, readReg(r, YEAR));
        assertEquals(0x21, readReg(r, CENTURY));
        assertEquals(0x06, readReg(r, DOW)); // 2100-01-01 is a Friday
    }

    // ---------------------------------------------------------------------------------------------
    // Update in progress

    @Test
    void uipIsHighDuringTheLast244MicrosecondsOfEachSecond() {
        long hold = CmosRtc.UIP_HOLD_NANOS;
        assertEquals(244_140, hold);
        time.advanceNanos(1_000_000_000L - hold - 1);
        assertEquals(0x26, r(A));
        assertEquals(0x27, r(SEC));
        time.advanceNanos(1);
        assertEquals(0x80 | 0x26, r(A)); // UIP
        assertEquals(0x27, r(SEC));      // the registers still hold the old second
        time.advanceNanos(hold - 1);
        assertEquals(0x80 | 0x26, r(A));
        time.advanceNanos(1);            // the second boundary: update done
        assertEquals(0x26, r(A));
        assertEquals(0x28, r(SEC));
    }

    @Test
    void uipStaysLowWhileSetOrDividerStopped() {
        time.advanceNanos(999_900_000L); // inside the hold window
        assertEquals(0xa6, r(A));
        w(B, SET | H24);
        assertEquals(0x26, r(A));
        w(B, H24);
        assertEquals(0xa6, r(A));
        w(A, 0x76); // divider in reset
        assertEquals(0x76, r(A));
        w(A, 0xa6); // bit 7 is read-only
        assertEquals(0xa6, r(A));
    }

    // ---------------------------------------------------------------------------------------------
    // Setting the time

    @Test
    void setModeFreezesTakesWritesAndRestartsFromThem() {
        w(B, SET | H24);
        time.advanceNanos(5_000_000_000L);
        assertEquals(0x27, r(SEC)); // frozen
        w(YEAR, 0x24);
        w(MONTH, 0x02);
        w(DAY, 0x29);
        w(HOUR, 0x08);
        w(MIN, 0x30);
        w(SEC, 0x00);
        assertEquals(0x29, r(DAY));
        assertEquals(0x05, r(DOW)); // Thursday 2024-02-29
        w(B, H24);
        assertEquals("2024-02-29 08:30:00", rtc.rtcTime());
        time.advanceNanos(61_000_000_000L);
        assertEquals(0x31, r(MIN));
        assertEquals(0x01, r(SEC));
    }

    @Test
    void dayBeyondTheMonthIsClampedWhenSetEnds() {
        w(B, SET | H24);
        w(MONTH, 0x02);
        w(DAY, 0x31);
        assertEquals(0x31, r(DAY)); // held as written while SET
        w(B, H24);
        assertEquals(0x28, r(DAY)); // 2025 is not a leap year
    }

    @Test
    void writesWithoutSetTakeEffectAtOnce() {
        w(B, BINARY | H24);
        w(HOUR, 22);
        assertEquals(22, r(HOUR));
        assertEquals(27, r(SEC));
        w(CENTURY, 19);
        assertEquals(19, r(CENTURY));
        assertEquals(25, r(YEAR));
        assertEquals("1925-03-09 22:45:27", rtc.rtcTime());
        w(DOW, 5); // derived from the date
        assertEquals(2, r(DOW)); // 1925-03-09 was a Monday
    }

    @Test
    void twelveHourWritesAreDecoded() {
        w(B, 0);
        w(HOUR, 0x80 | 0x12); // 12 PM
        w(B, H24);
        assertEquals(0x12, r(HOUR));
        w(B, 0);
        w(HOUR, 0x12); // 12 AM
        w(B, H24);
        assertEquals(0x00, r(HOUR));
    }

    @Test
    void settingSetClearsUie() {
        w(B, UIE | H24);
        w(B, SET | UIE | H24);
        assertEquals(SET | H24, r(B));
    }

    // ---------------------------------------------------------------------------------------------
    // Interrupts

    @Test
    void alarmRaisesAfAndIrq8WhenEnabled() {
        w(A, 0x20); // periodic rate 0: no PF in the flags below
        w(SEC_ALARM, 0x30);
        w(MIN_ALARM, 0x45);
        w(HOUR_ALARM, 0x13);
        w(B, AIE | H24);
        assertEquals(1, time.pending()); // one task for the next update
        time.advanceNanos(2_000_000_000L); // 13:45:29
        assertFalse(irq.level());
        time.advanceNanos(1_000_000_000L); // 13:45:30
        assertTrue(irq.level());
        assertEquals(0, time.pending()); // line high: nothing to schedule until C is read
        assertEquals(0x80 | 0x20 | 0x10, r(C)); // IRQF, AF, UF (UF is set even though UIE is off)
        assertFalse(irq.level());
        assertEquals(0x00, r(C));
        assertEquals(List.of(true, false), irq.calls());
    }

    @Test
    void alarmDontCareValuesMatchAnything() {
        w(A, 0x20); // periodic rate 0: no PF in the flags below
        w(SEC_ALARM, 0xc0);
        w(MIN_ALARM, 0x46);
        w(HOUR_ALARM, 0xff);
        w(B, AIE | H24);
        time.advanceNanos(32_000_000_000L); // 13:45:59
        assertFalse(irq.level());
        time.advanceNanos(1_000_000_000L); // 13:46:00
        assertTrue(irq.level());
        r(C);
        time.advanceNanos(1_000_000_000L); // 13:46:01 matches too: every second of minute 46
        assertTrue(irq.level());
    }

    @Test
    void alarmInTwelveHourBinaryMode() {
        w(A, 0x20); // periodic rate 0: no PF in the flags below
        w(B, BINARY); // 12-hour, binary
        w(SEC_ALARM, 0);
        w(MIN_ALARM, 0);
        w(HOUR_ALARM, 0x80 | 2); // 2 PM
        w(B, BINARY | AIE);
        time.advanceNanos((14 * 3600 - (13 * 3600 + 45 * 60 + 27)) * 1_000_000_000L);
        assertTrue(irq.level());
        assertEquals(0x80 | 0x20 | 0x10, r(C));
    }

    @Test
    void alarmFlagIsSetWithoutAieAndSeenByPolling() {
        w(A, 0x20); // periodic rate 0: no PF in the flags below
        w(SEC_ALARM, 0x28);
        w(MIN_ALARM, 0xc0);
        w(HOUR_ALARM, 0xc0);
        assertEquals(0, time.pending()); // no interrupt enabled: no timer
        time.advanceNanos(5_000_000_000L);
        assertFalse(irq.level());
        assertEquals(0x20 | 0x10, r(C)); // AF and UF, no IRQF
        assertEquals(List.of(), irq.calls());
    }

    @Test
    void updateEndedInterruptEverySecond() {
        w(A, 0x20); // periodic rate 0: no PF in the flags below
        w(B, UIE | H24);
        time.advanceNanos(999 * MS);
        assertFalse(irq.level());
        time.advanceNanos(MS);
        assertTrue(irq.level());
        assertEquals(0x90, r(C));
        time.advanceNanos(1000 * MS);
        assertTrue(irq.level());
        assertEquals(0x90, r(C));
        w(B, H24);
        time.advanceNanos(5000 * MS);
        assertFalse(irq.level());
        assertEquals(0, time.pending());
    }

    @Test
    void periodicInterruptAtTheRateOfStatusA() {
        w(A, 0x2f); // rate 15: 2 Hz
        w(B, PIE | H24);
        time.advanceNanos(499 * MS);
        assertFalse(irq.level());
        time.advanceNanos(MS);
        assertTrue(irq.level());
        assertEquals(0xc0, r(C)); // IRQF, PF
        assertFalse(irq.level());
        time.advanceNanos(500 * MS); // crosses the second boundary too
        assertEquals(0x80 | 0x40 | 0x10, r(C));
    }

    @Test
    void periodicFlagIsSetWithoutPieButRaisesNothing() {
        time.advanceNanos(MS); // default rate 6: 1024 Hz
        assertEquals(0x40, r(C));
        assertEquals(0x00, r(C));
        assertEquals(0, time.pending());
        assertEquals(List.of(), irq.calls());
    }

    @Test
    void periodicRate6IsAbout1024Hz() {
        w(B, PIE | H24); // A = 0x26 at power-on
        int edges = 0;
        for (int i = 0; i < 1024; i++) {
            time.advanceNanos(976_563); // 1/1024 s, rounded up
            if (irq.level()) {
                edges++;
                r(C);
            }
        }
        assertEquals(1024, edges);
    }

    // ---------------------------------------------------------------------------------------------
    // Memory bytes, RAM, reset

    @Test
    void memoryBytesFor128MiB() {
        assertEquals(0x80, r(0x15)); // 640 KiB
        assertEquals(0x02, r(0x16));
        assertEquals(0xff, r(0x17)); // 127 MiB in KiB = 130048, capped at 0xffff
        assertEquals(0xff, r(0x18));
        assertEquals(0xff, r(0x30));
        assertEquals(0xff, r(0x31));
        assertEquals(0x00, r(0x34)); // (128 - 16) MiB / 64 KiB = 1792 = 0x0700
        assertEquals(0x07, r(0x35));
        assertEquals(0x00, r(0x5b));
        assertEquals(0x00, r(0x5c));
        assertEquals(0x00, r(0x5d));
        assertEquals(0x00, r(0x5f)); // 1 CPU
    }

    @Test
    void memoryBytesFor5GiBWith4Cpus() {
        CmosRtc big = new CmosRtc(new CmosMachineInfo(3L << 30, 2L << 30, 4), time, ZoneOffset.UTC,
                time, IrqLine.none());
        assertEquals(0x80, readReg(big, 0x15));
        assertEquals(0x02, readReg(big, 0x16));
        assertEquals(0xff, readReg(big, 0x17));
        assertEquals(0xff, readReg(big, 0x18));
        assertEquals(0x00, readReg(big, 0x34)); // (3 GiB - 16 MiB) / 64 KiB = 48896 = 0xbf00
        assertEquals(0xbf, readReg(big, 0x35));
        assertEquals(0x00, readReg(big, 0x5b)); // 2 GiB / 64 KiB = 32768 = 0x008000
        assertEquals(0x80, readReg(big, 0x5c));
        assertEquals(0x00, readReg(big, 0x5d));
        assertEquals(0x03, readReg(big, 0x5f));
    }

    @Test
    void memoryBytesEncodingExactly() {
        byte[] cmos = new byte[128];
        new CmosMachineInfo(3L << 30, 2L << 30, 4).storeInto(cmos);
        assertEquals(0xbf00, (cmos[0x34] & 0xff) | (cmos[0x35] & 0xff) << 8);
        byte[] small = new byte[128];
        new CmosMachineInfo(8L << 20, 0, 2).storeInto(small);
        assertEquals(7 * 1024, (small[0x17] & 0xff) | (small[0x18] & 0xff) << 8); // not capped
        assertEquals(0, small[0x34] | small[0x35]); // below 16 MiB
        assertEquals(1, small[0x5f]);
    }

    @Test
    void machineInfoIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> new CmosMachineInfo(-1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new CmosMachineInfo(1 << 20, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CmosMachineInfo(1 << 20, 0, 257));
    }

    @Test
    void guestRamSurvivesResetWhichClearsOnlyInterruptState() {
        for (int boot = 1; boot <= 3; boot++) { // a test kernel counting its boots
            int count = r(0x50);
            w(0x50, count + 1);
            rtc.reset();
            assertEquals(boot, r(0x50));
        }
        w(B, PIE | AIE | UIE | BINARY | H24);
        time.advanceNanos(1_000_000_000L);
        assertTrue(irq.level());
        rtc.write(0, 1, 0x80 | B);
        rtc.reset();
        assertFalse(irq.level());
        assertFalse(rtc.nmiMasked());
        assertEquals(BINARY | H24, r(B)); // enables cleared, formats kept
        assertEquals(0, r(C));
        assertEquals(0, time.pending());
        assertEquals(0x80, r(0x15)); // memory bytes kept
    }

    @Test
    void statusCAndDIgnoreWrites() {
        w(C, 0xff);
        w(D, 0x00);
        assertEquals(0x00, r(C));
        assertEquals(0x80, r(D));
    }

    @Test
    void setRamByteRefusesClockRegisters() {
        rtc.setRamByte(0x3d, 0x02);
        assertEquals(0x02, r(0x3d));
        assertThrows(IllegalArgumentException.class, () -> rtc.setRamByte(0x0b, 0));
        assertThrows(IllegalArgumentException.class, () -> rtc.setRamByte(CENTURY, 0));
    }

    @Test
    void describeShowsTimeAndRegistersWithoutSideEffects() {
        w(A, 0x20); // periodic rate 0: no PF in the flags below
        w(B, UIE | H24);
        time.advanceNanos(1_000_000_000L);
        rtc.write(0, 1, 0x80 | 0x0c);
        String s = rtc.describe();
        assertEquals("cmos-rtc: 2025-03-09 13:45:28 (Z) A=20 B=12 C=90 index=0x0c nmi=masked irq=1", s);
        assertEquals(0x90, rtc.read(1, 1)); // describe() did not clear C
    }

    // ---------------------------------------------------------------------------------------------

    private FakeTime lastTime;

    private CmosRtc rtcAt(String instant) {
        lastTime = new FakeTime(Instant.parse(instant));
        return new CmosRtc(new CmosMachineInfo(1L << 20, 0, 1), lastTime, ZoneOffset.UTC, lastTime,
                IrqLine.none());
    }

    private static int readReg(CmosRtc r, int reg) {
        r.write(0, 1, reg);
        return r.read(1, 1);
    }
}
