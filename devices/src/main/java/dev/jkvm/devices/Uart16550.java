package dev.jkvm.devices;

import static dev.jkvm.devices.Uart16550Registers.*;

import dev.jkvm.devices.state.SavesState;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * A National Semiconductor PC16550D (16550A) UART: the PC serial port a guest kernel uses as its
 * console ({@code console=ttyS0}) and that firmware and boot loaders poll. A full model, because
 * drivers probe the chip and drive it by interrupts. Registers (offset from the base, 8 bits each;
 * their bits in {@link Uart16550Registers}):
 *
 * <pre>
 * off  DLAB=0 read / write        DLAB=1
 *  0   RBR (receive) / THR (send)  DLL  divisor latch, low byte
 *  1   IER (4 bits)                DLM  divisor latch, high byte
 *  2   IIR (read) / FCR (write)
 *  3   LCR (bit 7 = DLAB)
 *  4   MCR (DTR RTS OUT1 OUT2 LOOP)
 *  5   LSR (DR OE PE FE BI THRE TEMT RXFE); writes ignored
 *  6   MSR (DCTS DDSR TERI DDCD CTS DSR RI DCD); writes ignored
 *  7   SCR scratch
 * </pre>
 *
 * A 2- or 4-byte access is split into byte accesses at consecutive offsets; bytes beyond offset 7
 * read as 0xff and ignore writes. Transmission is instantaneous (THRE and TEMT always read 1): the
 * sink runs on the vCPU thread with this UART's lock held, so it must never block nor call back
 * into the UART. Host input is flow-controlled ({@link #receive}, {@link #receiveFully}) and never
 * lost. The model's choices (interrupts and their priority, the two character-timeout models,
 * breaks, modem lines, FCR) are described in {@code devices/README.md}.
 *
 * <p>Thread safety: guest accesses, {@link #receive} and the other public methods synchronize on a
 * private lock (uncontended on the vCPU path); nothing on the register path allocates.
 */
public final class Uart16550 implements PortIoDevice, PostedWrites, SavesState<Uart16550.State> {

    /** Depth of the receive (and transmit) FIFO. */
    public static final int FIFO_SIZE = 16;
    /** Number of registers (ports) the UART occupies. */
    public static final int REGISTER_COUNT = 8;
    /** Divisor after power-on: 9600 baud. */
    public static final int DEFAULT_DIVISOR = 12;
    /** Baud rate for divisor 1: the PC's 1.8432 MHz crystal / 16. */
    public static final int BASE_BAUD = 115200;

    private final String name;
    private final OutputStream sink;
    private final IrqLine irq;
    private final Object lock = new Object();

    private volatile Runnable inputReadyCallback;
    private volatile Runnable postableChanged;

    // All below guarded by lock.
    private int divisor;
    private int ier;
    private int fcr;
    private int lcr;
    private int mcr;
    private int scr;
    /** Sticky LSR error bits (OE, PE, FE, BI), cleared by reading LSR. */
    private int lsrErrors;
    /** LSR bit 7 latch: set when an error character enters the FIFO, cleared by an LSR read when none is left. */
    private boolean rxFifoError;
    /** MSR: bits 4-7 the current inputs, bits 0-3 the deltas since the last MSR read. */
    private int msr;
    /** The modem inputs from the outside world (MSR bit positions 4-7), used when not in loopback. */
    private int externalModemInputs = MSR_DCD | MSR_DSR | MSR_CTS;
    private boolean thrPending;
    private boolean timeoutPending;
    private boolean rxActivity;
    private boolean immediateTimeout = true;
    private final UartReceiveFifo rx = new UartReceiveFifo();
    /** Last value read from RBR: what an RBR read returns when nothing was received. */
    private int rbrLatch;
    /** A receive() was refused bytes; run the input-ready callback when room appears. */
    private boolean inputBlocked;
    private boolean irqLevel;
    private long outputErrors;

    /** A UART named {@code uart16550}. */
    public Uart16550(OutputStream sink, IrqLine irq) {
        this("uart16550", sink, irq);
    }

    /**
     * @param name shown by {@link #name()} and {@link #state()}, e.g. {@code "COM1"}
     * @param sink receives every transmitted byte (outside loopback)
     * @param irq  the interrupt line (IRQ 4 for COM1 on a PC), assumed low initially
     */
    public Uart16550(String name, OutputStream sink, IrqLine irq) {
        this.name = Objects.requireNonNull(name, "name");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.irq = Objects.requireNonNull(irq, "irq");
        synchronized (lock) {
            resetLocked();
        }
    }

    @Override
    public String name() {
        return name;
    }

    // ---------------------------------------------------------------------------------------------
    // Guest side

    @Override
    public int read(int offset, int size) {
        int value = 0;
        boolean wake;
        synchronized (lock) {
            for (int i = 0; i < size; i++) {
                value |= readRegisterLocked(offset + i) << (8 * i);
            }
            updateIrqLocked();
            wake = takeInputWakeupLocked();
        }
        if (wake) {
            runInputReadyCallback();
        }
        return value;
    }

    @Override
    public void write(int offset, int size, int value) {
        boolean wake;
        boolean postable;
        boolean wasPostable;
        synchronized (lock) {
            wasPostable = postableLocked();
            for (int i = 0; i < size; i++) {
                writeRegisterLocked(offset + i, (value >>> (8 * i)) & 0xff);
            }
            updateIrqLocked();
            wake = takeInputWakeupLocked();
            postable = postableLocked();
        }
        if (wake) {
            runInputReadyCallback();
        }
        if (postable != wasPostable) {
            runPostableChanged();
        }
    }

    /** THR while the divisor latch, the THR-empty interrupt and loopback are off: a write there only sends a byte. */
    @Override
    public int postedOffset() {
        return REG_DATA;
    }

    @Override
    public boolean writesPostable() {
        synchronized (lock) {
            return postableLocked();
        }
    }

    @Override
    public void onPostableChange(Runnable changed) {
        postableChanged = changed;
    }

    private boolean postableLocked() {
        return (lcr & LCR_DLAB) == 0 && (ier & IER_ETBEI) == 0 && (mcr & MCR_LOOP) == 0;
    }

    private void runPostableChanged() {
        Runnable r = postableChanged;
        if (r != null) {
            r.run();
        }
    }

    private int readRegisterLocked(int reg) {
        switch (reg) {
            case REG_DATA:
                return (lcr & LCR_DLAB) != 0 ? divisor & 0xff : readRbrLocked();
            case REG_IER:
                return (lcr & LCR_DLAB) != 0 ? divisor >>> 8 : ier;
            case REG_IIR_FCR: {
                int iir = iirLocked();
                if ((iir & IIR_ID_MASK) == IIR_THRI) {
                    thrPending = false;
                }
                return iir;
            }
            case REG_LCR:
                return lcr;
            case REG_MCR:
                return mcr;
            case REG_LSR: {
                int lsr = lsrLocked();
                lsrErrors = 0;
                if (rx.errorChars() == 0) {
                    rxFifoError = false;
                }
                return lsr;
            }
            case REG_MSR: {
                int value = msr;
                msr &= MSR_INPUTS;
                return value;
            }
            case REG_SCR:
                return scr;
            default:
                return 0xff;
        }
    }

    private void writeRegisterLocked(int reg, int value) {
        switch (reg) {
            case REG_DATA -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff00) | value;
                } else {
                    transmitLocked(value);
                }
            }
            case REG_IER -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0x00ff) | (value << 8);
                } else {
                    int old = ier;
                    ier = value & 0x0f;
                    if ((old & IER_ETBEI) == 0 && (ier & IER_ETBEI) != 0) {
                        thrPending = true; // THR is always empty: enabling ETBEI raises the interrupt
                    }
                }
            }
            case REG_IIR_FCR -> writeFcrLocked(value);
            case REG_LCR -> lcr = value;
            case REG_MCR -> {
                int oldInputs = modemInputsLocked();
                mcr = value & MCR_WRITABLE;
                applyModemInputsLocked(oldInputs, modemInputsLocked());
            }
            case REG_SCR -> scr = value;
            default -> {
                // LSR and MSR are read-only (LSR writes are a factory test mode); beyond 7: nothing.
            }
        }
    }

    private int readRbrLocked() {
        rxActivity = true;
        timeoutPending = false;
        if (rx.count() == 0) {
            return rbrLatch;
        }
        int b = rx.take();
        rbrLatch = b;
        if (rx.breakAtTop()) {
            lsrErrors |= LSR_BI; // the next character's error shows when it reaches the top
        }
        return b;
    }

    private void transmitLocked(int b) {
        thrPending = false; // writing THR clears the THRE interrupt ...
        if ((mcr & MCR_LOOP) != 0) {
            rxPushLocked(b, (byte) 0);
        } else {
            try {
                sink.write(b);
                sink.flush();
            } catch (IOException e) {
                outputErrors++;
            }
        }
        thrPending = true; // ... and THR empties again at once
    }

    private void writeFcrLocked(int value) {
        boolean enable = (value & FCR_ENABLE) != 0;
        if (enable != fifosEnabledLocked()) {
            clearReceiverLocked(); // switching between FIFO and 16450 mode flushes the FIFOs
        }
        if (!enable) {
            fcr = 0; // the other bits are only programmed together with FCR0 = 1
            return;
        }
        if ((value & FCR_RX_RESET) != 0) {
            clearReceiverLocked();
        }
        // FCR_TX_RESET: the transmit FIFO is always empty (instant transmission); nothing to clear.
        fcr = value & FCR_STORED;
    }

    private void clearReceiverLocked() {
        rx.clear();
        rxFifoError = false;
        timeoutPending = false;
    }

    // ---------------------------------------------------------------------------------------------
    // Derived state

    private boolean fifosEnabledLocked() {
        return (fcr & FCR_ENABLE) != 0;
    }

    private int triggerLevelLocked() {
        return switch (fcr >>> 6) {
            case 0 -> 1;
            case 1 -> 4;
            case 2 -> 8;
            default -> 14;
        };
    }

    private int rxCapacityLocked() {
        return fifosEnabledLocked() ? FIFO_SIZE : 1;
    }

    /** Bytes {@link #receive} would accept now: none in loopback (serial input disconnected). */
    private int roomLocked() {
        return (mcr & MCR_LOOP) != 0 ? 0 : rxCapacityLocked() - rx.count();
    }

    private boolean characterTimeoutLocked() {
        if (!fifosEnabledLocked() || rx.count() == 0) {
            return false;
        }
        return immediateTimeout ? rx.count() < triggerLevelLocked() : timeoutPending;
    }

    /** IIR as the guest would read it, without the read's side effect. */
    private int iirLocked() {
        int id;
        if ((ier & IER_ELSI) != 0 && (lsrErrors & LSR_ERRORS) != 0) {
            id = IIR_RLSI;
        } else if ((ier & IER_ERBFI) != 0 && characterTimeoutLocked()) {
            id = IIR_CTI;
        } else if ((ier & IER_ERBFI) != 0 && rx.count() > 0
                && (!fifosEnabledLocked() || rx.count() >= triggerLevelLocked())) {
            id = IIR_RDI;
        } else if ((ier & IER_ETBEI) != 0 && thrPending) {
            id = IIR_THRI;
        } else if ((ier & IER_EDSSI) != 0 && (msr & MSR_DELTAS) != 0) {
            id = IIR_MSI;
        } else {
            id = IIR_NO_INT;
        }
        return fifosEnabledLocked() ? id | IIR_FIFOS_ENABLED : id;
    }

    private int lsrLocked() {
        int lsr = lsrErrors | LSR_THRE | LSR_TEMT;
        if (rx.count() > 0) {
            lsr |= LSR_DR;
        }
        if (rxFifoError && fifosEnabledLocked()) {
            lsr |= LSR_RX_FIFO_ERROR;
        }
        return lsr;
    }

    /** The modem inputs (MSR bit positions 4-7) the chip sees now. */
    private int modemInputsLocked() {
        if ((mcr & MCR_LOOP) == 0) {
            return externalModemInputs;
        }
        return ((mcr & MCR_RTS) != 0 ? MSR_CTS : 0)
                | ((mcr & MCR_DTR) != 0 ? MSR_DSR : 0)
                | ((mcr & MCR_OUT1) != 0 ? MSR_RI : 0)
                | ((mcr & MCR_OUT2) != 0 ? MSR_DCD : 0);
    }

    private void applyModemInputsLocked(int oldInputs, int newInputs) {
        int changed = oldInputs ^ newInputs;
        int deltas = 0;
        if ((changed & MSR_CTS) != 0) {
            deltas |= MSR_DCTS;
        }
        if ((changed & MSR_DSR) != 0) {
            deltas |= MSR_DDSR;
        }
        if ((changed & MSR_DCD) != 0) {
            deltas |= MSR_DDCD;
        }
        if ((oldInputs & MSR_RI) != 0 && (newInputs & MSR_RI) == 0) {
            deltas |= MSR_TERI; // trailing edge of ring indicator only
        }
        msr = newInputs | (msr & MSR_DELTAS) | deltas;
    }

    private void updateIrqLocked() {
        boolean level = (iirLocked() & IIR_NO_INT) == 0
                && (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    /** Puts one character into the receiver as the wire delivers it; false on overrun. */
    private boolean rxPushLocked(int b, byte flag) {
        rxActivity = true;
        if (rx.count() >= rxCapacityLocked()) {
            lsrErrors |= LSR_OE;
            if (!fifosEnabledLocked()) {
                rx.replaceOldest(b, flag); // 16450 mode: the new character replaces the unread one in RBR
                noteErrorCharLocked(flag, true);
            }
            return false;
        }
        rx.add(b, flag);
        noteErrorCharLocked(flag, rx.count() == 1);
        return true;
    }

    private void noteErrorCharLocked(byte flag, boolean atTop) {
        if (flag != 0) {
            rxFifoError = true;
            if (atTop) {
                lsrErrors |= LSR_BI;
            }
        }
    }

    /**
     * If a refused sender is waiting and there is room now: wakes {@link #receiveFully} waiters (a
     * notify on a monitor we hold; nothing allocated) and tells the caller to run the callback.
     */
    private boolean takeInputWakeupLocked() {
        if (inputBlocked && roomLocked() > 0) {
            inputBlocked = false;
            lock.notifyAll();
            return true;
        }
        return false;
    }

    private void runInputReadyCallback() {
        Runnable r = inputReadyCallback;
        if (r != null) {
            r.run();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Host side

    /**
     * Delivers host input to the receiver, as much as fits: up to 16 bytes in FIFO mode, 1 in 16450
     * mode while RBR is empty, none in loopback. Thread-safe; may raise the interrupt line.
     *
     * @return the number of bytes accepted (a prefix of the range); when less than {@code len}, the
     *         {@link #setInputReadyCallback input-ready callback} runs once there is room
     */
    public int receive(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        synchronized (lock) {
            int n = Math.min(len, roomLocked());
            for (int i = 0; i < n; i++) {
                rxPushLocked(data[off + i] & 0xff, (byte) 0);
            }
            if (n < len) {
                inputBlocked = true;
            }
            updateIrqLocked();
            return n;
        }
    }

    /**
     * Delivers all of {@code data[off .. off+len)} to the receiver, blocking while it is full until the
     * guest reads enough: the form for a host input thread (stdin reader). The wait is on this UART's
     * monitor and ends when a guest RBR read, an FCR receiver reset, leaving loopback or
     * {@link #reset()} makes room; there is no polling. Each portion accepted may raise the interrupt
     * line, as with {@link #receive}.
     *
     * @throws InterruptedException if the thread is interrupted while waiting; the bytes accepted
     *         before that stay delivered (the caller learns nothing of how many: an interrupted input
     *         thread is being shut down)
     */
    public void receiveFully(byte[] data, int off, int len) throws InterruptedException {
        Objects.checkFromIndexSize(off, len, data.length);
        int done = 0;
        synchronized (lock) {
            while (true) {
                int n = Math.min(len - done, roomLocked());
                for (int i = 0; i < n; i++) {
                    rxPushLocked(data[off + done + i] & 0xff, (byte) 0);
                }
                done += n;
                updateIrqLocked();
                if (done == len) {
                    return;
                }
                inputBlocked = true;
                lock.wait();
            }
        }
    }

    /**
     * Delivers a break condition (the line held low for a character time): a 0 character flagged BI.
     * Thread-safe.
     *
     * @return false if the receiver was full (nothing delivered; the input-ready callback will run
     *         when there is room)
     */
    public boolean receiveBreak() {
        synchronized (lock) {
            if (roomLocked() == 0) {
                inputBlocked = true;
                return false;
            }
            rxPushLocked(0, UartReceiveFifo.FLAG_BREAK);
            updateIrqLocked();
            return true;
        }
    }

    /** Whether {@link #receive} would accept at least one byte now. */
    public boolean canReceive() {
        synchronized (lock) {
            return roomLocked() > 0;
        }
    }

    /**
     * Sets the callback run when the guest makes room in the receiver after a {@link #receive} or
     * {@link #receiveBreak} call was refused input (fully or in part). It runs once per refusal, on
     * the thread that made room (usually a vCPU thread, outside this UART's lock), so it must be quick:
     * signal the input thread (e.g. {@code LockSupport.unpark}) rather than read input itself. Because
     * the refusal and the room are both observed under the lock, no wakeup is lost.
     */
    public void setInputReadyCallback(Runnable callback) {
        this.inputReadyCallback = callback;
    }

    /**
     * Sets the modem input lines seen outside loopback, as MSR bits: {@code 0x10} CTS, {@code 0x20}
     * DSR, {@code 0x40} RI, {@code 0x80} DCD (other bits ignored). Changes set the MSR delta bits and
     * may raise a modem-status interrupt. Initially DCD | DSR | CTS. Thread-safe.
     */
    public void setModemInputs(int msrInputBits) {
        synchronized (lock) {
            int old = modemInputsLocked();
            externalModemInputs = msrInputBits & MSR_INPUTS;
            applyModemInputsLocked(old, modemInputsLocked());
            updateIrqLocked();
        }
    }

    /**
     * Chooses the character-timeout model (see {@code devices/README.md}): {@code true} (default) reports the
     * timeout as soon as the FIFO holds data below the trigger level; {@code false} waits for
     * {@link #tick()}.
     */
    public void setImmediateTimeout(boolean immediate) {
        synchronized (lock) {
            immediateTimeout = immediate;
            timeoutPending = false;
            rxActivity = false;
            updateIrqLocked();
        }
    }

    /**
     * The clock of the ticked character-timeout model: call it periodically (about every 4 character
     * times; a few milliseconds is fine). A tick that finds data in the FIFO and no received character
     * and no RBR read since the previous tick makes the timeout pending. No effect in the immediate
     * model. Thread-safe.
     */
    public void tick() {
        synchronized (lock) {
            if (!immediateTimeout && fifosEnabledLocked() && rx.count() > 0 && !rxActivity) {
                timeoutPending = true;
            }
            rxActivity = false;
            updateIrqLocked();
        }
    }

    /** Returns the UART to its power-on state (registers, FIFOs, interrupt line low). */
    public void reset() {
        boolean wake;
        synchronized (lock) {
            resetLocked();
            wake = takeInputWakeupLocked();
        }
        if (wake) {
            runInputReadyCallback();
        }
        runPostableChanged();
    }

    private void resetLocked() {
        divisor = DEFAULT_DIVISOR;
        ier = 0;
        fcr = 0;
        lcr = 0;
        mcr = 0;
        scr = 0;
        lsrErrors = 0;
        clearReceiverLocked();
        rbrLatch = 0;
        thrPending = false;
        rxActivity = false;
        msr = externalModemInputs;
        updateIrqLocked();
    }

    /** Transmitted bytes dropped because the sink threw. */
    public long outputErrors() {
        synchronized (lock) {
            return outputErrors;
        }
    }

    /** The programmed divisor latch (DLM:DLL). */
    public int divisor() {
        synchronized (lock) {
            return divisor;
        }
    }

    /** Whether the interrupt line is currently driven high. */
    public boolean irqAsserted() {
        synchronized (lock) {
            return irqLevel;
        }
    }

    /**
     * One line describing the registers, for {@code info devices}, e.g.
     * {@code COM1: 115200 8N1 ier=05 iir=c1 fcr=81 lcr=03 mcr=0b lsr=60 msr=b0 scr=00 rx=0/16 irq=0}.
     * Reading it has no side effect on the guest-visible state.
     */
    public String state() {
        synchronized (lock) {
            int parity = (lcr >>> 3) & 7;
            char parityChar = (parity & 1) == 0 ? 'N' : "OEMS".charAt((parity >>> 1) & 3);
            int dataBits = (lcr & 3) + 5;
            String stopBits = (lcr & 4) == 0 ? "1" : dataBits == 5 ? "1.5" : "2";
            String baud = divisor == 0 ? "-" : Integer.toString(BASE_BAUD / divisor);
            return String.format(
                    "%s: %s %d%c%s dl=%d ier=%02x iir=%02x fcr=%02x lcr=%02x mcr=%02x lsr=%02x msr=%02x"
                            + " scr=%02x rx=%d/%d%s irq=%d",
                    name, baud, dataBits, parityChar, stopBits, divisor, ier, iirLocked(), fcr, lcr, mcr,
                    lsrLocked(), msr, scr, rx.count(), rxCapacityLocked(),
                    (mcr & MCR_LOOP) != 0 ? " loop" : "", irqLevel ? 1 : 0);
        }
    }

    /**
     * The guest-visible state: registers, the receive FIFO (oldest first, with each character's
     * flags) and the pending-interrupt latches. The host side (sink, input callback, output
     * errors, the timeout mode) is not part of it.
     */
    public record State(int divisor, int ier, int fcr, int lcr, int mcr, int scr, int lsrErrors,
                        boolean rxFifoError, int msr, int modemInputs, boolean thrPending,
                        boolean timeoutPending, boolean rxActivity, byte[] rxData, byte[] rxFlags,
                        int rbrLatch) {
        public State {
            if (rxData.length != rxFlags.length || rxData.length > FIFO_SIZE) {
                throw new IllegalArgumentException("a receive FIFO of " + rxData.length + " characters and "
                        + rxFlags.length + " flags (at most " + FIFO_SIZE + ")");
            }
        }
    }

    /** The guest-visible state now (see {@link State}). */
    @Override
    public State saveState() {
        synchronized (lock) {
            return new State(divisor, ier, fcr, lcr, mcr, scr, lsrErrors, rxFifoError, msr,
                    externalModemInputs, thrPending, timeoutPending, rxActivity, rx.data(), rx.flags(), rbrLatch);
        }
    }

    /** Puts the UART back to {@code s}; the interrupt line is driven to the level it implies. */
    @Override
    public void restoreState(State s) {
        boolean wake;
        synchronized (lock) {
            divisor = s.divisor();
            ier = s.ier();
            fcr = s.fcr();
            lcr = s.lcr();
            mcr = s.mcr();
            scr = s.scr();
            lsrErrors = s.lsrErrors();
            rxFifoError = s.rxFifoError();
            msr = s.msr();
            externalModemInputs = s.modemInputs();
            thrPending = s.thrPending();
            timeoutPending = s.timeoutPending();
            rxActivity = s.rxActivity();
            rx.restore(s.rxData(), s.rxFlags());
            rbrLatch = s.rbrLatch();
            irqLevel = (iirLocked() & IIR_NO_INT) == 0 && (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
            irq.set(irqLevel); // driven even when unchanged: the machine behind the line may be new
            wake = takeInputWakeupLocked();
        }
        if (wake) {
            runInputReadyCallback();
        }
        runPostableChanged();
    }

    /** The {@link #state()} line. */
    @Override
    public String describe() {
        return state();
    }

    @Override
    public String toString() {
        return state();
    }
}
