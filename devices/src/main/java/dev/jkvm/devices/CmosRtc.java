package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneRules;
import java.util.Objects;

/**
 * The PC's CMOS RAM and real-time clock (a Motorola MC146818A as every chipset since the AT keeps it)
 * at ports 0x70 (index; bit 7 masks NMIs, reads 0xff) and 0x71 (data), interrupting on IRQ 8. A
 * full model: Linux reads the wall clock from it, {@code hwclock} waits for its interrupts, firmware
 * reads the memory size from it, test kernels keep state across resets in it. Its bytes:
 *
 * <pre>
 * 0x00-0x09  seconds, alarm, minutes, alarm, hours, alarm, day of week, day, month, year
 * 0x0a       A: UIP (bit 7), divider (4-6), periodic rate (0-3)
 * 0x0b       B: SET PIE AIE UIE SQWE DM(binary) 24H DSE
 * 0x0c       C: IRQF PF AF UF, read to clear
 * 0x0d       D: VRT (reads 0x80)
 * 0x32       century
 * the rest   RAM, preset with {@link CmosMachineInfo}
 * </pre>
 *
 * The time is an {@link InstantSource}'s in a {@link ZoneId} plus what the guest set; events are
 * computed from the clock when the guest touches the chip, and a {@link DeviceScheduler} task runs
 * only while an enabled interrupt is due, so an idle RTC costs nothing. {@link #reset()} clears only
 * the interrupt enables and flags, as the chip's RESET pin does. The details (UIP timing, formats,
 * SET, alarms, the periodic rate, the RAM bytes) are in {@code devices/README.md}.
 *
 * <p>Thread safety: guest accesses, scheduler tasks and the public methods synchronize on a private
 * lock; {@link IrqLine#set} is called with it held.
 *
 * <pre>{@code
 * CmosRtc rtc = new CmosRtc(new CmosMachineInfo(128L << 20, 0, 1),
 *         InstantSource.system(), ZoneOffset.UTC, timers, irq8);
 * bus.register(CmosRtc.DEFAULT_BASE, CmosRtc.PORT_COUNT, rtc);
 * }</pre>
 */
public final class CmosRtc implements PortIoDevice, SavesState<CmosRtc.State> {

    /** Index port; the data port is the next one. */
    public static final int DEFAULT_BASE = 0x70;
    /** Ports claimed: index and data. */
    public static final int PORT_COUNT = 2;
    /** ISA interrupt of the RTC on a PC. */
    public static final int DEFAULT_IRQ = 8;
    /** Bytes of CMOS (registers 0x00-0x0d included). */
    public static final int SIZE = 128;
    /** Where the century lives (the ACPI FADT's CENTURY field points here). */
    public static final int CENTURY_REGISTER = 0x32;
    /** How long before each update UIP reads 1: 8 cycles of the 32.768 kHz time base. */
    public static final long UIP_HOLD_NANOS = 8 * 1_000_000_000L / 32768;

    static final int REG_SECONDS = 0x00;
    static final int REG_SECONDS_ALARM = 0x01;
    static final int REG_MINUTES = 0x02;
    static final int REG_MINUTES_ALARM = 0x03;
    static final int REG_HOURS = 0x04;
    static final int REG_HOURS_ALARM = 0x05;
    static final int REG_DAY_OF_WEEK = 0x06;
    static final int REG_DAY_OF_MONTH = 0x07;
    static final int REG_MONTH = 0x08;
    static final int REG_YEAR = 0x09;
    static final int REG_A = 0x0a;
    static final int REG_B = 0x0b;
    static final int REG_C = 0x0c;
    static final int REG_D = 0x0d;

    static final int A_UIP = 0x80;
    static final int A_DIVIDER = 0x70;
    static final int A_DIVIDER_NORMAL = 0x20;
    static final int A_RATE = 0x0f;
    static final int B_SET = 0x80;
    static final int B_PIE = 0x40;
    static final int B_AIE = 0x20;
    static final int B_UIE = 0x10;
    static final int B_SQWE = 0x08;
    static final int B_BINARY = 0x04;
    static final int B_24H = 0x02;
    static final int C_IRQF = 0x80;
    static final int C_PF = 0x40;
    static final int C_AF = 0x20;
    static final int C_UF = 0x10;
    static final int C_FLAGS = C_PF | C_AF | C_UF;
    static final int D_VRT = 0x80;

    /** Power-on A: divider normal (32.768 kHz), rate 6 (1024 Hz), as firmware leaves it. */
    static final int A_DEFAULT = 0x26;
    /** Power-on B: 24-hour, BCD, as QEMU starts. */
    static final int B_DEFAULT = B_24H;

    private static final long NANOS = 1_000_000_000L;
    private static final long SECONDS_PER_DAY = 86_400;

    // Field indexes into frozen[] (the registers while SET is on).
    private static final int F_SEC = 0;
    private static final int F_MIN = 1;
    private static final int F_HOUR = 2;
    private static final int F_DAY = 3;
    private static final int F_MONTH = 4;
    private static final int F_YEAR = 5;

    private final Object lock = new Object();
    private final InstantSource clock;
    private final ZoneId zone;
    private final ZoneRules zoneRules;
    /** The zone's offset in seconds when it never changes (UTC), else {@link Integer#MIN_VALUE}. */
    private final int fixedOffsetSeconds;
    private final DeviceScheduler scheduler;
    private final IrqLine irq;

    // All below guarded by lock.
    private final byte[] ram = new byte[SIZE];
    private int index;
    private boolean nmiMasked;
    /** RTC time minus the clock's local time, in seconds: what the guest set. */
    private long guestOffsetSeconds;
    /** While B.SET is on: the registers as frozen or written (binary; full year). */
    private final int[] frozen = new int[6];
    /** Status C bits PF, AF, UF. */
    private int flags;
    /** Clock epoch second up to which updates (UF, AF) have been accounted. */
    private long processedSecond;
    /** Periodic interval index up to which PF has been accounted (per the current rate). */
    private long processedPeriod;
    private boolean irqLevel;
    private DeviceScheduler.Cancellable timer;
    /** Clock epoch nanos the pending timer is due at. */
    private long timerDue;
    /** Incremented per scheduled task: a stale task (cancelled too late) recognises itself. */
    private long timerGeneration;

    /** An RTC on the host's clock in UTC. */
    public CmosRtc(CmosMachineInfo info, DeviceScheduler scheduler, IrqLine irq) {
        this(info, InstantSource.system(), ZoneOffset.UTC, scheduler, irq);
    }

    /**
     * @param info      the memory sizes and CPU count stored in CMOS RAM
     * @param clock     the wall clock the RTC shows (a fixed or hand-advanced one in tests)
     * @param zone      the zone the RTC keeps time in: {@link ZoneOffset#UTC} as QEMU's default,
     *                  or the host's zone for {@code -rtc base=localtime}
     * @param scheduler runs the task that raises IRQ 8 at the next enabled event
     * @param irq       IRQ 8, assumed low initially
     */
    public CmosRtc(CmosMachineInfo info, InstantSource clock, ZoneId zone, DeviceScheduler scheduler,
            IrqLine irq) {
        Objects.requireNonNull(info, "info");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.zone = Objects.requireNonNull(zone, "zone");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.irq = Objects.requireNonNull(irq, "irq");
        this.zoneRules = zone.getRules();
        this.fixedOffsetSeconds = zoneRules.isFixedOffset()
                ? zoneRules.getOffset(Instant.EPOCH).getTotalSeconds()
                : Integer.MIN_VALUE;
        synchronized (lock) {
            ram[REG_A] = (byte) A_DEFAULT;
            ram[REG_B] = (byte) B_DEFAULT;
            info.storeInto(ram);
            Instant now = clock.instant();
            processedSecond = now.getEpochSecond();
            processedPeriod = periodIndexLocked(now.getEpochSecond(), now.getNano());
        }
    }

    @Override
    public String name() {
        return "cmos-rtc";
    }

    // ---------------------------------------------------------------------------------------------
    // Guest side

    @Override
    public int read(int offset, int size) {
        int value = 0;
        synchronized (lock) {
            for (int i = 0; i < size; i++) {
                int b = offset + i == 1 ? readDataLocked() : 0xff;
                value |= b << (8 * i);
            }
        }
        return value;
    }

    @Override
    public void write(int offset, int size, int value) {
        synchronized (lock) {
            for (int i = 0; i < size; i++) {
                int b = (value >>> (8 * i)) & 0xff;
                switch (offset + i) {
                    case 0 -> {
                        index = b & 0x7f;
                        nmiMasked = (b & 0x80) != 0;
                    }
                    case 1 -> writeDataLocked(b);
                    default -> {
                        // beyond the two ports: nothing
                    }
                }
            }
        }
    }

    private int readDataLocked() {
        Instant now = clock.instant();
        long sec = now.getEpochSecond();
        int nano = now.getNano();
        advanceLocked(sec, nano);
        int value;
        switch (index) {
            case REG_SECONDS, REG_MINUTES, REG_HOURS, REG_DAY_OF_WEEK, REG_DAY_OF_MONTH, REG_MONTH,
                    REG_YEAR, CENTURY_REGISTER -> value = timeRegisterLocked(index, sec);
            case REG_A -> value = (ram[REG_A] & ~A_UIP & 0xff) | (updateInProgressLocked(nano) ? A_UIP : 0);
            case REG_C -> {
                value = flags | (irqPendingLocked() ? C_IRQF : 0);
                flags = 0;
            }
            case REG_D -> value = D_VRT;
            default -> value = ram[index] & 0xff;
        }
        updateIrqLocked();
        rescheduleLocked(sec, nano);
        return value;
    }

    private void writeDataLocked(int value) {
        Instant now = clock.instant();
        long sec = now.getEpochSecond();
        int nano = now.getNano();
        advanceLocked(sec, nano); // account events under the old settings first
        switch (index) {
            case REG_SECONDS, REG_MINUTES, REG_HOURS, REG_DAY_OF_MONTH, REG_MONTH, REG_YEAR,
                    CENTURY_REGISTER -> writeTimeRegisterLocked(index, value, sec);
            case REG_DAY_OF_WEEK, REG_C, REG_D -> {
                // derived from the date / read-only
            }
            case REG_A -> {
                int old = ram[REG_A] & 0xff;
                ram[REG_A] = (byte) (value & ~A_UIP);
                if (((old ^ value) & A_RATE) != 0) {
                    processedPeriod = periodIndexLocked(sec, nano);
                }
                if (!dividerRunning(old) && dividerRunning(value)) {
                    processedSecond = sec;
                }
            }
            case REG_B -> writeStatusBLocked(value, sec);
            default -> ram[index] = (byte) value;
        }
        updateIrqLocked();
        rescheduleLocked(sec, nano);
    }

    private void writeStatusBLocked(int value, long sec) {
        int old = ram[REG_B] & 0xff;
        boolean wasSet = (old & B_SET) != 0;
        boolean set = (value & B_SET) != 0;
        if (set && !wasSet) {
            loadLiveFieldsLocked(frozen, sec); // freeze before the format bits change
            value &= ~B_UIE; // setting SET clears UIE (data sheet)
        }
        ram[REG_B] = (byte) value;
        if (wasSet && !set) {
            guestOffsetSeconds = composeClamped(frozen) - localSeconds(sec);
            processedSecond = sec; // restart: the first update is at the next boundary
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Time registers

    private boolean setModeLocked() {
        return (ram[REG_B] & B_SET) != 0;
    }

    private static boolean dividerRunning(int statusA) {
        return (statusA & A_DIVIDER) == A_DIVIDER_NORMAL;
    }

    /** Whether the chip updates once a second now. */
    private boolean updatingLocked() {
        return !setModeLocked() && dividerRunning(ram[REG_A]);
    }

    private boolean updateInProgressLocked(int nano) {
        return updatingLocked() && nano >= NANOS - UIP_HOLD_NANOS;
    }

    private long localSeconds(long epochSecond) {
        int offset = fixedOffsetSeconds != Integer.MIN_VALUE
                ? fixedOffsetSeconds
                : zoneRules.getOffset(Instant.ofEpochSecond(epochSecond)).getTotalSeconds();
        return epochSecond + offset;
    }

    /** The running RTC time in local seconds since 1970 (ignores SET). */
    private long liveRtcSecondsLocked(long sec) {
        return localSeconds(sec) + guestOffsetSeconds;
    }

    private void loadLiveFieldsLocked(int[] f, long sec) {
        long t = liveRtcSecondsLocked(sec);
        long days = Math.floorDiv(t, SECONDS_PER_DAY);
        int sod = (int) Math.floorMod(t, SECONDS_PER_DAY);
        f[F_SEC] = sod % 60;
        f[F_MIN] = sod / 60 % 60;
        f[F_HOUR] = sod / 3600;
        f[F_DAY] = CivilCalendar.day(days);
        f[F_MONTH] = CivilCalendar.month(days);
        f[F_YEAR] = (int) CivilCalendar.year(days);
    }

    /** Local seconds since 1970 of the fields, the day clamped to the month's length. */
    private static long composeClamped(int[] f) {
        int day = Math.min(f[F_DAY], CivilCalendar.daysInMonth(f[F_YEAR], f[F_MONTH]));
        return CivilCalendar.daysFromCivil(f[F_YEAR], f[F_MONTH], day) * SECONDS_PER_DAY
                + f[F_HOUR] * 3600L + f[F_MIN] * 60L + f[F_SEC];
    }

    /** The binary value of a time field, from the frozen registers or the running clock. */
    private int fieldLocked(int field, long sec) {
        if (setModeLocked()) {
            return frozen[field];
        }
        long t = liveRtcSecondsLocked(sec);
        long days = Math.floorDiv(t, SECONDS_PER_DAY);
        int sod = (int) Math.floorMod(t, SECONDS_PER_DAY);
        return switch (field) {
            case F_SEC -> sod % 60;
            case F_MIN -> sod / 60 % 60;
            case F_HOUR -> sod / 3600;
            case F_DAY -> CivilCalendar.day(days);
            case F_MONTH -> CivilCalendar.month(days);
            default -> (int) CivilCalendar.year(days);
        };
    }

    private int dayOfWeekLocked(long sec) {
        long days;
        if (setModeLocked()) {
            int day = Math.min(frozen[F_DAY], CivilCalendar.daysInMonth(frozen[F_YEAR], frozen[F_MONTH]));
            days = CivilCalendar.daysFromCivil(frozen[F_YEAR], frozen[F_MONTH], day);
        } else {
            days = Math.floorDiv(liveRtcSecondsLocked(sec), SECONDS_PER_DAY);
        }
        return CivilCalendar.dayOfWeek(days);
    }

    private int timeRegisterLocked(int reg, long sec) {
        return switch (reg) {
            case REG_SECONDS -> encode(fieldLocked(F_SEC, sec));
            case REG_MINUTES -> encode(fieldLocked(F_MIN, sec));
            case REG_HOURS -> encodeHour(fieldLocked(F_HOUR, sec));
            case REG_DAY_OF_WEEK -> encode(dayOfWeekLocked(sec));
            case REG_DAY_OF_MONTH -> encode(fieldLocked(F_DAY, sec));
            case REG_MONTH -> encode(fieldLocked(F_MONTH, sec));
            case REG_YEAR -> encode(Math.floorMod(fieldLocked(F_YEAR, sec), 100));
            default -> encode(Math.floorMod(Math.floorDiv(fieldLocked(F_YEAR, sec), 100), 100));
        };
    }

    private void writeTimeRegisterLocked(int reg, int value, long sec) {
        boolean frozenNow = setModeLocked();
        int[] f = frozenNow ? frozen : new int[6]; // a time write without SET is rare: allocation is fine
        if (!frozenNow) {
            loadLiveFieldsLocked(f, sec);
        }
        switch (reg) {
            case REG_SECONDS -> f[F_SEC] = clamp(decode(value), 0, 59);
            case REG_MINUTES -> f[F_MIN] = clamp(decode(value), 0, 59);
            case REG_HOURS -> f[F_HOUR] = clamp(decodeHour(value), 0, 23);
            case REG_DAY_OF_MONTH -> f[F_DAY] = clamp(decode(value), 1, 31);
            case REG_MONTH -> f[F_MONTH] = clamp(decode(value), 1, 12);
            case REG_YEAR -> f[F_YEAR] = Math.floorDiv(f[F_YEAR], 100) * 100 + clamp(decode(value), 0, 99);
            default -> f[F_YEAR] = clamp(decode(value), 0, 99) * 100 + Math.floorMod(f[F_YEAR], 100);
        }
        if (!frozenNow) {
            guestOffsetSeconds = composeClamped(f) - localSeconds(sec);
        }
    }

    private static int clamp(int v, int min, int max) {
        return Math.max(min, Math.min(max, v));
    }

    private boolean binaryLocked() {
        return (ram[REG_B] & B_BINARY) != 0;
    }

    private boolean hour24Locked() {
        return (ram[REG_B] & B_24H) != 0;
    }

    private int encode(int v) {
        return binaryLocked() ? v : ((v / 10) << 4) | (v % 10);
    }

    private int decode(int v) {
        return binaryLocked() ? v : (v >>> 4) * 10 + (v & 0x0f);
    }

    /** Hours 0-23 in the register format: 12-hour mode is 1-12 with bit 7 for PM. */
    private int encodeHour(int hour) {
        if (hour24Locked()) {
            return encode(hour);
        }
        int h12 = hour % 12 == 0 ? 12 : hour % 12;
        return encode(h12) | (hour >= 12 ? 0x80 : 0);
    }

    private int decodeHour(int v) {
        if (hour24Locked()) {
            return decode(v);
        }
        int h = decode(v & 0x7f) % 12;
        return (v & 0x80) != 0 ? h + 12 : h;
    }

    // ---------------------------------------------------------------------------------------------
    // Events: UF, AF, PF

    /** Sets the flags for what happened between the last accounting and {@code sec.nano}. */
    private void advanceLocked(long sec, int nano) {
        if (updatingLocked() && sec > processedSecond) {
            flags |= C_UF;
            if ((flags & C_AF) == 0 && alarmMatchedLocked(processedSecond, sec)) {
                flags |= C_AF;
            }
        }
        processedSecond = sec; // also when not updating, or when the clock went back
        if (periodTicksLocked() != 0) {
            long p = periodIndexLocked(sec, nano);
            if (p > processedPeriod) {
                flags |= C_PF;
            }
            processedPeriod = p;
        }
    }

    /** Whether an update in clock seconds {@code (from, to]} produced a time matching the alarm. */
    private boolean alarmMatchedLocked(long from, long to) {
        int sa = ram[REG_SECONDS_ALARM] & 0xff;
        int ma = ram[REG_MINUTES_ALARM] & 0xff;
        int ha = ram[REG_HOURS_ALARM] & 0xff;
        int s = dontCare(sa) ? -1 : decode(sa);
        int m = dontCare(ma) ? -1 : decode(ma);
        int h = dontCare(ha) ? -1 : decodeHour(ha);
        long last = liveRtcSecondsLocked(to);
        long count = Math.min(to - from, SECONDS_PER_DAY); // a day covers every time of day
        for (long k = 0; k < count; k++) {
            int sod = (int) Math.floorMod(last - k, SECONDS_PER_DAY);
            if ((s < 0 || s == sod % 60) && (m < 0 || m == sod / 60 % 60) && (h < 0 || h == sod / 3600)) {
                return true;
            }
        }
        return false;
    }

    /** Alarm bytes with bits 7 and 6 set match any value. */
    private static boolean dontCare(int alarmByte) {
        return (alarmByte & 0xc0) == 0xc0;
    }

    /** The periodic interval in 32.768 kHz cycles per status A's rate, or 0 when off. */
    private int periodTicksLocked() {
        int rs = ram[REG_A] & A_RATE;
        if (rs == 0) {
            return 0;
        }
        if (rs <= 2) {
            rs += 7; // rates 1 and 2 are 256 and 128 Hz, not 16384 and 8192
        }
        return 1 << (rs - 1);
    }

    private static long cycles32k(long sec, int nano) {
        return sec * 32768 + (nano * 32768L) / NANOS;
    }

    private long periodIndexLocked(long sec, int nano) {
        int ticks = periodTicksLocked();
        return ticks == 0 ? 0 : Math.floorDiv(cycles32k(sec, nano), ticks);
    }

    private boolean irqPendingLocked() {
        return (flags & ram[REG_B] & C_FLAGS) != 0;
    }

    private void updateIrqLocked() {
        boolean level = irqPendingLocked();
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    /**
     * Keeps one timer task for the next event that could raise the line: none while it is already
     * high (nothing changes until C is read, which reschedules) or no interrupt is enabled.
     */
    private void rescheduleLocked(long sec, int nano) {
        long delay = Long.MAX_VALUE;
        if (!irqLevel) {
            int b = ram[REG_B];
            if (updatingLocked() && (b & (B_UIE | B_AIE)) != 0) {
                delay = NANOS - nano;
            }
            int ticks = periodTicksLocked();
            if ((b & B_PIE) != 0 && ticks != 0) {
                long next = (Math.floorDiv(cycles32k(sec, nano), ticks) + 1) * ticks;
                long nextSec = Math.floorDiv(next, 32768);
                long nextNano = Math.ceilDiv(Math.floorMod(next, 32768) * NANOS, 32768);
                delay = Math.min(delay, (nextSec - sec) * NANOS + nextNano - nano);
            }
        }
        if (delay == Long.MAX_VALUE) {
            cancelTimerLocked();
            return;
        }
        long due = sec * NANOS + nano + delay;
        if (timer != null && timerDue <= due) {
            return; // the pending task comes first and will recompute
        }
        cancelTimerLocked();
        long generation = ++timerGeneration;
        timerDue = due;
        timer = scheduler.schedule(delay, () -> onTimer(generation));
    }

    private void cancelTimerLocked() {
        if (timer != null) {
            timer.cancel();
            timer = null;
            timerGeneration++;
        }
    }

    private void onTimer(long generation) {
        synchronized (lock) {
            if (generation != timerGeneration) {
                return;
            }
            timer = null;
            Instant now = clock.instant();
            advanceLocked(now.getEpochSecond(), now.getNano());
            updateIrqLocked();
            rescheduleLocked(now.getEpochSecond(), now.getNano());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Host side

    /** Whether the guest's last write to port 0x70 had bit 7 set (NMIs masked at the chipset). */
    public boolean nmiMasked() {
        synchronized (lock) {
            return nmiMasked;
        }
    }

    /** Whether IRQ 8 is driven high. */
    public boolean irqAsserted() {
        synchronized (lock) {
            return irqLevel;
        }
    }

    /** A CMOS RAM byte as stored (0x0e-0x7f; the clock registers are computed), e.g. for the monitor. */
    public int ramByte(int address) {
        Objects.checkIndex(address, SIZE);
        synchronized (lock) {
            return ram[address] & 0xff;
        }
    }

    /** Presets a CMOS RAM byte (0x0e-0x7f), e.g. QEMU's boot-order bytes 0x3d/0x38. */
    public void setRamByte(int address, int value) {
        if (address <= REG_D || address == CENTURY_REGISTER || address >= SIZE) {
            throw new IllegalArgumentException(String.format(
                    "CMOS byte 0x%02x is not plain RAM (0x0e-0x7f except 0x32)", address));
        }
        synchronized (lock) {
            ram[address] = (byte) value;
        }
    }

    /** The date and time the guest would read now, as {@code yyyy-mm-dd hh:mm:ss}. */
    public String rtcTime() {
        synchronized (lock) {
            long sec = clock.instant().getEpochSecond();
            return String.format("%04d-%02d-%02d %02d:%02d:%02d",
                    fieldLocked(F_YEAR, sec), fieldLocked(F_MONTH, sec), fieldLocked(F_DAY, sec),
                    fieldLocked(F_HOUR, sec), fieldLocked(F_MIN, sec), fieldLocked(F_SEC, sec));
        }
    }

    /**
     * The guest-visible state: CMOS RAM (status registers and alarm included), the index and NMI
     * mask of port 0x70, the RTC's time as the guest sees it ({@code rtcSeconds}, local seconds
     * since 1970), the registers frozen while SET is on, and the flags of status C.
     */
    public record State(byte[] ram, int index, boolean nmiMasked, long rtcSeconds, int[] frozen, int flags) {
        public State {
            if (ram.length != SIZE || frozen.length != 6) {
                throw new IllegalArgumentException("CMOS RAM of " + ram.length + " bytes (not " + SIZE
                        + ") or " + frozen.length + " frozen fields (not 6)");
            }
        }
    }

    /** The guest-visible state now. */
    @Override
    public State saveState() {
        synchronized (lock) {
            Instant now = clock.instant();
            advanceLocked(now.getEpochSecond(), now.getNano());
            return new State(ram.clone(), index, nmiMasked, liveRtcSecondsLocked(now.getEpochSecond()),
                    frozen.clone(), flags);
        }
    }

    /**
     * Puts the RTC back to {@code s}: its clock goes on from the saved time (the time between save
     * and restore does not pass for the guest, as for a paused machine); IRQ 8 is driven to the
     * level the flags imply and the next event rescheduled.
     */
    @Override
    public void restoreState(State s) {
        synchronized (lock) {
            System.arraycopy(s.ram(), 0, ram, 0, SIZE);
            index = s.index();
            nmiMasked = s.nmiMasked();
            System.arraycopy(s.frozen(), 0, frozen, 0, frozen.length);
            flags = s.flags();
            Instant now = clock.instant();
            guestOffsetSeconds = s.rtcSeconds() - localSeconds(now.getEpochSecond());
            processedSecond = now.getEpochSecond();
            processedPeriod = periodIndexLocked(now.getEpochSecond(), now.getNano());
            irqLevel = irqPendingLocked();
            irq.set(irqLevel);
            cancelTimerLocked();
            rescheduleLocked(now.getEpochSecond(), now.getNano());
        }
    }

    /**
     * A machine reset (the chip's RESET pin): clears the interrupt enables PIE, AIE, UIE and SQWE and
     * the flags in C, lowers IRQ 8, unmasks NMIs. Time, alarms, formats and CMOS RAM are kept.
     */
    public void reset() {
        synchronized (lock) {
            ram[REG_B] &= (byte) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
            flags = 0;
            index = 0;
            nmiMasked = false;
            Instant now = clock.instant();
            processedSecond = now.getEpochSecond();
            processedPeriod = periodIndexLocked(now.getEpochSecond(), now.getNano());
            updateIrqLocked();
            cancelTimerLocked();
        }
    }

    /**
     * {@code cmos-rtc: 2025-01-02 03:04:05 (UTC) A=26 B=02 C=00 index=0x0b nmi=on irq=0}; no side
     * effects (the flags shown are those last computed).
     */
    @Override
    public String describe() {
        String time = rtcTime();
        synchronized (lock) {
            return String.format("%s: %s (%s) A=%02x B=%02x C=%02x index=0x%02x nmi=%s irq=%d",
                    name(), time, zone, ram[REG_A] & 0xff, ram[REG_B] & 0xff,
                    flags | (irqPendingLocked() ? C_IRQF : 0), index, nmiMasked ? "masked" : "on",
                    irqLevel ? 1 : 0);
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
