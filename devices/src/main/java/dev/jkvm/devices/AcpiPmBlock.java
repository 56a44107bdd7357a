package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The ACPI fixed hardware of a PIIX4-style chipset: PM1a event and control blocks, the PM timer, a
 * GPE0 block and the APM/SMI command port: what an ACPI OS needs to power the machine off, see the
 * power button, and use the PM timer as a clock source.
 *
 * <h2>Registers (offsets within each block)</h2>
 * <ul>
 * <li><b>PM1a_EVT</b> (4 bytes): 0 PM1_STS (TMR_STS bit 0, GBL_STS 5, PWRBTN_STS 8, SLPBTN_STS 9,
 *     RTC_STS 10, WAK_STS 15; write 1 to clear), 2 PM1_EN (the matching enables: TMR_EN 0, GBL_EN 5,
 *     PWRBTN_EN 8, SLPBTN_EN 9, RTC_EN 10).</li>
 * <li><b>PM1a_CNT</b> (2 bytes): SCI_EN bit 0, BM_RLD 1, GBL_RLS 2 (write-only, no effect), SLP_TYP
 *     bits 10-12, SLP_EN 13 (write-only): writing SLP_EN calls {@link SystemControl#sleep} with the
 *     SLP_TYP written alongside, outside the block's lock.</li>
 * <li><b>PM_TMR</b> (4 bytes, read-only): a free-running counter at 3.579545 MHz derived from an
 *     injectable monotonic nanosecond clock, never from a count of reads; 24 bits (QEMU's PIIX4;
 *     the FADT must not set TMR_VAL_EXT) or 32 bits. TMR_STS is set whenever the counter's top bit
 *     (23 or 31) changes.</li>
 * <li><b>GPE0</b> (4 bytes): 0 GPE0_STS (write 1 to clear), 2 GPE0_EN. Nothing raises GPEs but
 *     {@link #raiseGpe}; all zero by default, which is what Linux expects of an idle block.</li>
 * <li><b>SMI_CMD</b> (2 bytes, APM control 0xB2 and status 0xB3): writing the FADT's ACPI_ENABLE
 *     value sets SCI_EN, ACPI_DISABLE clears it (QEMU: 0xF1 and 0xF0), which is how an OS switches
 *     the chipset to ACPI mode when the FADT names this port; other values are stored and read
 *     back.</li>
 * </ul>
 *
 * <h2>SCI</h2>
 * A level on the {@link IrqLine}: high while {@code PM1_STS & PM1_EN} (the five event bits) or
 * {@code GPE0_STS & GPE0_EN} is non-zero, as QEMU computes it (not gated by SCI_EN). TMR_STS is computed
 * from the clock when the guest reads PM1_STS; while TMR_EN is set and the SCI low, one
 * {@link DeviceScheduler} task is due at the next carry so the SCI rises on time without polling.
 *
 * <p>Each block is its own {@link PortIoDevice} view so the machine can place them anywhere
 * ({@link Ports#QEMU_PIIX4}: 0x600, 0x604, 0x608, 0xafe0, 0xb2); {@link #registerOn} registers all five.
 * Accesses of any width are split into bytes.
 *
 * <pre>{@code
 * AcpiPmBlock pm = new AcpiPmBlock(AcpiPmBlock.Config.QEMU_PIIX4, control, sci, System::nanoTime, timers);
 * pm.registerOn(bus, AcpiPmBlock.Ports.QEMU_PIIX4);
 * pm.pressPowerButton();   // the guest's ACPI button driver shuts down
 * }</pre>
 */
public final class AcpiPmBlock implements SavesState<AcpiPmBlock.State> {

    /** The PM timer's rate: the ACPI-mandated 3.579545 MHz. */
    public static final long PM_TIMER_HZ = 3_579_545;

    /** Where the blocks sit in port space. */
    public record Ports(int pm1aEvent, int pm1aControl, int pmTimer, int gpe0, int smiCommand) {
        /** QEMU's PIIX4 layout (PM base 0x600, GPE0 at 0xafe0, APM port 0xb2). */
        public static final Ports QEMU_PIIX4 = new Ports(0x600, 0x604, 0x608, 0xafe0, 0xb2);
    }

    /**
     * Behaviour choices.
     *
     * @param timer32Bit        a 32-bit PM timer (FADT TMR_VAL_EXT) instead of 24
     * @param sciEnabledAtReset SCI_EN set at reset: for an FADT without SMI_CMD, whose OS expects
     *                          the chipset already in ACPI mode
     * @param acpiEnable        the FADT's ACPI_ENABLE value for SMI_CMD
     * @param acpiDisable       the FADT's ACPI_DISABLE value for SMI_CMD
     */
    public record Config(boolean timer32Bit, boolean sciEnabledAtReset, int acpiEnable, int acpiDisable) {
        /** As QEMU's PIIX4: 24-bit timer, legacy mode until the OS writes 0xF1 to port 0xB2. */
        public static final Config QEMU_PIIX4 = new Config(false, false, 0xf1, 0xf0);
    }

    /** Block lengths in bytes. */
    public static final int PM1_EVT_LEN = 4;
    public static final int PM1_CNT_LEN = 2;
    public static final int PM_TMR_LEN = 4;
    public static final int GPE0_LEN = 4;
    public static final int SMI_CMD_LEN = 2;

    public static final int TMR_STS = 0x0001;
    public static final int GBL_STS = 0x0020;
    public static final int PWRBTN_STS = 0x0100;
    public static final int SLPBTN_STS = 0x0200;
    public static final int RTC_STS = 0x0400;
    public static final int WAK_STS = 0x8000;
    /** Status bits that have an enable and raise the SCI. */
    static final int EVENT_BITS = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS;
    public static final int SCI_EN = 0x0001;
    public static final int SLP_EN = 0x2000;
    static final int SLP_TYP_SHIFT = 10;
    /** PM1_CNT bits that are stored: SCI_EN, BM_RLD, SLP_TYP. */
    static final int CNT_STORED = 0x1c03;

    private static final long NANOS = 1_000_000_000L;

    private final Config config;
    private final SystemControl control;
    private final IrqLine sci;
    private final LongSupplier nanoTime;
    private final DeviceScheduler scheduler;
    /** When the timer read 0, in {@code nanoTime}'s base; moved by a restore so the timer goes on from its saved count. */
    private volatile long originNanos;
    private final int timerBits;
    private final Object lock = new Object();

    private final PortIoDevice eventView = new EventView();
    private final PortIoDevice controlView = new ControlView();
    private final PortIoDevice timerView = new TimerView();
    private final PortIoDevice gpeView = new GpeView();
    private final PortIoDevice smiView = new SmiView();

    // All below guarded by lock.
    private int pm1Status;
    private int pm1Enable;
    private int pm1Control;
    private int gpeStatus;
    private int gpeEnable;
    private int apmControl;
    private int apmStatus;
    /** The timer's top-bit period index up to which TMR_STS has been accounted. */
    private long processedCarry;
    private boolean sciLevel;
    private DeviceScheduler.Cancellable timer;
    private long timerGeneration;
    /** The carry index the pending task is due at. */
    private long timerTarget;

    /**
     * @param config    timer width and ACPI mode switching
     * @param control   told of SLP_EN writes
     * @param sci       the SCI (IRQ 9 on QEMU's PC), assumed low initially
     * @param nanoTime  a monotonic clock in nanoseconds ({@code System::nanoTime}); the PM timer reads
     *                  0 at construction
     * @param scheduler runs the task raising the SCI at a timer carry when TMR_EN is set; its delays
     *                  must be in the time base of {@code nanoTime}
     */
    public AcpiPmBlock(Config config, SystemControl control, IrqLine sci, LongSupplier nanoTime,
            DeviceScheduler scheduler) {
        this.config = Objects.requireNonNull(config, "config");
        this.control = Objects.requireNonNull(control, "control");
        this.sci = Objects.requireNonNull(sci, "sci");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.timerBits = config.timer32Bit() ? 32 : 24;
        this.originNanos = nanoTime.getAsLong();
        synchronized (lock) {
            resetLocked();
        }
    }

    public PortIoDevice pm1EventBlock() {
        return eventView;
    }

    public PortIoDevice pm1ControlBlock() {
        return controlView;
    }

    public PortIoDevice pmTimerBlock() {
        return timerView;
    }

    public PortIoDevice gpe0Block() {
        return gpeView;
    }

    public PortIoDevice smiCommandPort() {
        return smiView;
    }

    /** Registers the five views at {@code ports} with their lengths. */
    public void registerOn(PortBus bus, Ports ports) {
        bus.register(ports.pm1aEvent(), PM1_EVT_LEN, eventView);
        bus.register(ports.pm1aControl(), PM1_CNT_LEN, controlView);
        bus.register(ports.pmTimer(), PM_TMR_LEN, timerView);
        bus.register(ports.gpe0(), GPE0_LEN, gpeView);
        bus.register(ports.smiCommand(), SMI_CMD_LEN, smiView);
    }

    // ---------------------------------------------------------------------------------------------
    // PM timer

    /** The PM timer's full count since construction (before the 24/32-bit wrap). */
    private long ticks() {
        long elapsed = Math.max(0, nanoTime.getAsLong() - originNanos);
        return (elapsed / NANOS) * PM_TIMER_HZ + (elapsed % NANOS) * PM_TIMER_HZ / NANOS;
    }

    /** The PM_TMR value a guest reads now. */
    public int pmTimer() {
        return (int) (ticks() & ((1L << timerBits) - 1));
    }

    // ---------------------------------------------------------------------------------------------
    // Events and SCI

    private void advanceLocked(long ticks) {
        long carry = ticks >>> (timerBits - 1);
        if (carry != processedCarry) {
            pm1Status |= TMR_STS;
            processedCarry = carry;
        }
    }

    private void updateSciLocked() {
        boolean level = (pm1Status & pm1Enable & EVENT_BITS) != 0 || (gpeStatus & gpeEnable) != 0;
        if (level != sciLevel) {
            sciLevel = level;
            sci.set(level);
        }
    }

    /**
     * Keeps one task due at the next timer carry while TMR_EN is set and the SCI low, none otherwise;
     * a task already due at that carry is kept (reads of PM1_STS do not churn the scheduler).
     */
    private void rescheduleLocked(long ticks) {
        boolean wanted = (pm1Enable & TMR_STS) != 0 && !sciLevel;
        long target = (ticks >>> (timerBits - 1)) + 1;
        if (timer != null && (!wanted || target != timerTarget)) {
            timer.cancel();
            timer = null;
            timerGeneration++;
        }
        if (!wanted || timer != null) {
            return;
        }
        long delay = Math.ceilDiv(((target << (timerBits - 1)) - ticks) * NANOS, PM_TIMER_HZ);
        long generation = ++timerGeneration;
        timerTarget = target;
        timer = scheduler.schedule(delay, () -> onTimer(generation));
    }

    private void onTimer(long generation) {
        synchronized (lock) {
            if (generation != timerGeneration) {
                return;
            }
            timer = null;
            long t = ticks();
            advanceLocked(t);
            updateSciLocked();
            rescheduleLocked(t);
        }
    }

    /** Sets PWRBTN_STS, as pressing the power button does; the SCI rises if PWRBTN_EN is set. */
    public void pressPowerButton() {
        synchronized (lock) {
            pm1Status |= PWRBTN_STS;
            updateSciLocked();
        }
    }

    /** Whether the guest enabled wake-up by the RTC alarm (PM1_EN.RTC_EN). */
    public boolean rtcWakeEnabled() {
        synchronized (lock) {
            return (pm1Enable & RTC_STS) != 0;
        }
    }

    /** The RTC alarm fired: RTC_STS, and the SCI if RTC_EN is set (as the PIIX4 routes it). */
    public void rtcAlarm() {
        synchronized (lock) {
            pm1Status |= RTC_STS;
            updateSciLocked();
        }
    }

    /** Sets WAK_STS, as waking from a sleep state does (no SCI by itself). */
    public void wake() {
        synchronized (lock) {
            pm1Status |= WAK_STS;
        }
    }

    /** Sets GPE0_STS bit {@code bit} (0-15); the SCI rises if the bit is enabled. */
    public void raiseGpe(int bit) {
        Objects.checkIndex(bit, 16);
        synchronized (lock) {
            gpeStatus |= 1 << bit;
            updateSciLocked();
        }
    }

    /** Whether the SCI is driven high. */
    public boolean sciAsserted() {
        synchronized (lock) {
            return sciLevel;
        }
    }

    /** PM1_STS as the guest would read it now, without side effects on the SCI. */
    public int pm1Status() {
        synchronized (lock) {
            long carry = ticks() >>> (timerBits - 1);
            return pm1Status | (carry != processedCarry ? TMR_STS : 0);
        }
    }

    /** PM1_CNT as stored (SCI_EN, BM_RLD, SLP_TYP). */
    public int pm1Control() {
        synchronized (lock) {
            return pm1Control;
        }
    }

    /** The guest-visible state: the PM1 and GPE0 registers, APM's, and the PM timer's full count. */
    public record State(int pm1Status, int pm1Enable, int pm1Control, int gpeStatus, int gpeEnable,
                        int apmControl, int apmStatus, long timerTicks, long processedCarry) {
    }

    /** The guest-visible state now. */
    @Override
    public State saveState() {
        synchronized (lock) {
            return new State(pm1Status, pm1Enable, pm1Control, gpeStatus, gpeEnable, apmControl, apmStatus,
                    ticks(), processedCarry);
        }
    }

    /**
     * Puts the block back to {@code s}: the PM timer goes on from the saved count; the SCI is
     * driven to the level the registers imply.
     */
    @Override
    public void restoreState(State s) {
        synchronized (lock) {
            pm1Status = s.pm1Status();
            pm1Enable = s.pm1Enable();
            pm1Control = s.pm1Control();
            gpeStatus = s.gpeStatus();
            gpeEnable = s.gpeEnable();
            apmControl = s.apmControl();
            apmStatus = s.apmStatus();
            long ticks = Math.max(0, s.timerTicks());
            originNanos = nanoTime.getAsLong() - (ticks / PM_TIMER_HZ) * NANOS - (ticks % PM_TIMER_HZ) * NANOS / PM_TIMER_HZ;
            processedCarry = s.processedCarry();
            sciLevel = (pm1Status & pm1Enable & EVENT_BITS) != 0 || (gpeStatus & gpeEnable) != 0;
            sci.set(sciLevel);
            if (timer != null) {
                timer.cancel();
                timer = null;
                timerGeneration++;
            }
            rescheduleLocked(ticks());
        }
    }

    /** Machine reset: status, enables and control to their reset values, SCI low; the timer runs on. */
    public void reset() {
        synchronized (lock) {
            resetLocked();
        }
    }

    private void resetLocked() {
        pm1Status = 0;
        pm1Enable = 0;
        pm1Control = config.sciEnabledAtReset() ? SCI_EN : 0;
        gpeStatus = 0;
        gpeEnable = 0;
        apmControl = 0;
        apmStatus = 0;
        long t = ticks();
        processedCarry = t >>> (timerBits - 1);
        updateSciLocked();
        rescheduleLocked(t);
    }

    /** {@code acpi-pm: PM1_STS=0100 PM1_EN=0100 PM1_CNT=0001 GPE0=0000/0000 tmr=00a1b2c3 sci=1}. */
    public String describe() {
        synchronized (lock) {
            return String.format("acpi-pm: PM1_STS=%04x PM1_EN=%04x PM1_CNT=%04x GPE0_STS=%04x GPE0_EN=%04x"
                            + " tmr=%0" + (timerBits / 4) + "x (%d-bit) apm=%02x/%02x sci=%d",
                    pm1Status, pm1Enable, pm1Control, gpeStatus, gpeEnable, pmTimer(), timerBits,
                    apmControl, apmStatus, sciLevel ? 1 : 0);
        }
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---------------------------------------------------------------------------------------------
    // Views

    /** Bytes of a 16-bit register pair: offsets 0-1 the first, 2-3 the second. */
    private static int byteOf(int first, int second, int index) {
        return switch (index) {
            case 0 -> first & 0xff;
            case 1 -> (first >>> 8) & 0xff;
            case 2 -> second & 0xff;
            case 3 -> (second >>> 8) & 0xff;
            default -> 0xff;
        };
    }

    private abstract class View implements PortIoDevice {
        @Override
        public String describe() {
            return AcpiPmBlock.this.describe();
        }
    }

    private final class EventView extends View {
        @Override
        public int read(int offset, int size) {
            synchronized (lock) {
                long t = ticks();
                advanceLocked(t);
                updateSciLocked();
                rescheduleLocked(t);
                int value = 0;
                for (int i = 0; i < size; i++) {
                    value |= byteOf(pm1Status, pm1Enable, offset + i) << (8 * i);
                }
                return value;
            }
        }

        @Override
        public void write(int offset, int size, int value) {
            synchronized (lock) {
                long t = ticks();
                advanceLocked(t); // a carry before this write is cleared by it, not after
                for (int i = 0; i < size; i++) {
                    int b = (value >>> (8 * i)) & 0xff;
                    switch (offset + i) {
                        case 0 -> pm1Status &= ~b;
                        case 1 -> pm1Status &= ~(b << 8);
                        case 2 -> pm1Enable = (pm1Enable & 0xff00) | (b & EVENT_BITS);
                        case 3 -> pm1Enable = (pm1Enable & 0x00ff) | ((b << 8) & EVENT_BITS);
                        default -> {
                        }
                    }
                }
                updateSciLocked();
                rescheduleLocked(t);
            }
        }

        @Override
        public String name() {
            return "acpi-pm1a-evt";
        }
    }

    private final class ControlView extends View {
        @Override
        public int read(int offset, int size) {
            synchronized (lock) {
                int value = 0;
                for (int i = 0; i < size; i++) {
                    int index = offset + i;
                    int b = index < 2 ? (pm1Control >>> (8 * index)) & 0xff : 0xff;
                    value |= b << (8 * i);
                }
                return value;
            }
        }

        @Override
        public void write(int offset, int size, int value) {
            int sleepType = -1;
            synchronized (lock) {
                for (int i = 0; i < size; i++) {
                    int index = offset + i;
                    if (index >= 2) {
                        continue;
                    }
                    int shift = 8 * index;
                    int b = ((value >>> (8 * i)) & 0xff) << shift;
                    pm1Control = (pm1Control & ~(0xff << shift)) | (b & CNT_STORED & (0xff << shift));
                    if ((b & SLP_EN) != 0) {
                        sleepType = (b >>> SLP_TYP_SHIFT) & 7;
                    }
                }
            }
            if (sleepType >= 0) {
                control.sleep(sleepType);
            }
        }

        @Override
        public String name() {
            return "acpi-pm1a-cnt";
        }
    }

    private final class TimerView extends View {
        @Override
        public int read(int offset, int size) {
            int t = pmTimer(); // no lock: a pure function of the clock
            int value = 0;
            for (int i = 0; i < size; i++) {
                int index = offset + i;
                value |= (index < 4 ? (t >>> (8 * index)) & 0xff : 0xff) << (8 * i);
            }
            return value;
        }

        @Override
        public void write(int offset, int size, int value) {
            // read-only
        }

        @Override
        public String name() {
            return "acpi-pm-tmr";
        }
    }

    private final class GpeView extends View {
        @Override
        public int read(int offset, int size) {
            synchronized (lock) {
                int value = 0;
                for (int i = 0; i < size; i++) {
                    value |= byteOf(gpeStatus, gpeEnable, offset + i) << (8 * i);
                }
                return value;
            }
        }

        @Override
        public void write(int offset, int size, int value) {
            synchronized (lock) {
                for (int i = 0; i < size; i++) {
                    int b = (value >>> (8 * i)) & 0xff;
                    switch (offset + i) {
                        case 0 -> gpeStatus &= ~b;
                        case 1 -> gpeStatus &= ~(b << 8);
                        case 2 -> gpeEnable = (gpeEnable & 0xff00) | b;
                        case 3 -> gpeEnable = (gpeEnable & 0x00ff) | (b << 8);
                        default -> {
                        }
                    }
                }
                updateSciLocked();
            }
        }

        @Override
        public String name() {
            return "acpi-gpe0";
        }
    }

    private final class SmiView extends View {
        @Override
        public int read(int offset, int size) {
            synchronized (lock) {
                int value = 0;
                for (int i = 0; i < size; i++) {
                    int b = switch (offset + i) {
                        case 0 -> apmControl;
                        case 1 -> apmStatus;
                        default -> 0xff;
                    };
                    value |= b << (8 * i);
                }
                return value;
            }
        }

        @Override
        public void write(int offset, int size, int value) {
            synchronized (lock) {
                for (int i = 0; i < size; i++) {
                    int b = (value >>> (8 * i)) & 0xff;
                    switch (offset + i) {
                        case 0 -> {
                            apmControl = b;
                            if (b == config.acpiEnable()) {
                                pm1Control |= SCI_EN;
                            } else if (b == config.acpiDisable()) {
                                pm1Control &= ~SCI_EN;
                            }
                        }
                        case 1 -> apmStatus = b;
                        default -> {
                        }
                    }
                }
            }
        }

        @Override
        public String name() {
            return "apm";
        }
    }
}
