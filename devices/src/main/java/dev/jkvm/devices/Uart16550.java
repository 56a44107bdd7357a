package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * A National Semiconductor PC16550D (16550A) UART: the PC serial port a guest kernel uses as its
 * console ({@code console=ttyS0}) and that firmware and boot loaders poll.
 *
 * <p>Why a full model rather than "print what is written to THR": guest drivers probe the chip
 * (scratch register, loopback test, FIFO detection through IIR bits 6-7), drive it by interrupts
 * (THRE, received data, character timeout) and program the divisor latch; a partial model makes
 * Linux misdetect the port or lose input. Registers (offset from the base, 8 bits each):
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
 * A 2- or 4-byte access is split into byte accesses at consecutive offsets, as an ISA bus does for an
 * 8-bit device; bytes beyond offset 7 read as 0xff and ignore writes.
 *
 * <h2>Model choices</h2>
 * <ul>
 * <li><b>Transmission is instantaneous.</b> A byte written to THR goes straight to the sink (or, in
 *     loopback, into the receiver), so THR, the transmit FIFO and the shift register are always empty:
 *     LSR.THRE and LSR.TEMT always read 1 and a guest polling THRE always proceeds. The transmit FIFO
 *     therefore never holds data and the FCR transmit-reset bit has nothing to clear. The sink gets
 *     {@code write(b)} then {@code flush()} per byte (a console must not sit on output); a sink that
 *     wants batching can make {@code flush()} cheap. Sink {@code IOException}s are counted
 *     ({@link #outputErrors()}) and the byte dropped: a guest must not die of a closed terminal.
 *     The sink runs on the vCPU thread with this UART's lock held, so it must never block (a host
 *     stream that may stop reading goes behind a bounded buffer and a thread of its own) and must
 *     not call back into this UART or take a lock that a thread calling {@link #receive} holds.</li>
 * <li><b>THRE interrupt.</b> Pending when THR empties (so after every THR write, since it empties at
 *     once) and when IER.ETBEI goes from 0 to 1 (THR being empty). Cleared by reading IIR while it is
 *     the reported cause, or by writing THR (immediately re-raised by the instant transmission).</li>
 * <li><b>Character timeout</b> (IIR 0xC, FIFO mode only). Two models, {@link #setImmediateTimeout}:
 *     <ul>
 *     <li>immediate (default): the host delivers what it has in one {@link #receive} call, so once
 *     that call returns "no more input is pending" and the timeout is reported at once whenever the
 *     FIFO holds data below the trigger level. Lowest latency for an interactive console; the trigger
 *     level then only changes the IIR code (0x4 at/above it, 0xC below).</li>
 *     <li>ticked: the indication becomes pending on a {@link #tick()} that finds data in the FIFO and
 *     neither a received character nor an RBR read since the previous tick (the data sheet's "no
 *     activity for 4 character times", with the tick as the clock; so it fires 1-2 tick periods
 *     after the last activity). Reading RBR clears it. Below the trigger level nothing else
 *     interrupts, as on the chip.</li>
 *     </ul></li>
 * <li><b>IIR priority</b>: receiver line status (OE/PE/FE/BI, IER.ELSI) &gt; character timeout /
 *     received data (IER.ERBFI) &gt; THRE (IER.ETBEI) &gt; modem status (IER.EDSSI). Bits 6-7 are 11
 *     while the FIFOs are enabled.</li>
 * <li><b>Interrupt line</b>: a level, high while IIR reports a cause <em>and</em> MCR.OUT2 is set <em>and</em>
 *     the chip is not in loopback. OUT2 gates the IRQ on a PC; in loopback the chip forces its OUT2
 *     pin inactive, so on a PC the causes show in IIR but the IRQ stays low. The line is set only on
 *     changes, once per register access (no glitch inside an access: an instantaneous transmission
 *     clears and re-raises THRE within the same access, which the guest cannot observe).
 *     {@link IrqLine#set} may be called from the vCPU thread or from the thread calling
 *     {@link #receive}, with this UART's lock held.</li>
 * <li><b>Receive</b>: {@link #receive} is flow-controlled: it accepts only what fits (16 bytes in FIFO
 *     mode, 1 in 16450 mode, nothing in loopback, where the serial input is disconnected) and returns
 *     the count; when it accepted less than offered, the {@link #setInputReadyCallback callback} runs
 *     once as soon as the guest makes room. {@link #receiveFully} is the blocking form for a host input
 *     thread: it waits (no polling) until the guest has taken everything, so a burst larger than the
 *     FIFO is delivered 16 bytes at a time as the guest drains it; {@link SerialInputPump} runs such a
 *     thread over an {@code InputStream}. So host input is never lost; overruns (LSR.OE) happen when
 *     a character arrives with the receiver full from the loopback path. In FIFO mode an overrunning
 *     character is lost and the FIFO kept; in 16450 mode it replaces RBR, as the data sheet says.</li>
 * <li><b>Line errors</b>: parity and framing errors cannot happen on a virtual wire (PE/FE read 0).
 *     {@link #receiveBreak()} delivers a break: a 0 character flagged BI, revealed in LSR.BI when it
 *     reaches the top of the FIFO; LSR bit 7 is set while the FIFO holds such a character (cleared by
 *     an LSR read once none is left). Reading LSR clears OE/PE/FE/BI.</li>
 * <li><b>Modem status</b>: outside loopback MSR bits 4-7 follow {@link #setModemInputs} (initially
 *     DCD, DSR and CTS asserted: a terminal is attached); in loopback they follow MCR (CTS=RTS,
 *     DSR=DTR, RI=OUT1, DCD=OUT2). Any change, including entering or leaving loopback, sets the delta
 *     bits (TERI only for RI going 1 to 0); reading MSR clears them.</li>
 * <li><b>FCR</b> is programmed only when its bit 0 is 1 in the write (data sheet); changing the FIFO
 *     enable clears the receiver. Power-on divisor: 12 (9600 baud with the PC's 1.8432 MHz clock).</li>
 * </ul>
 *
 * <p>Thread safety: guest accesses, {@link #receive} and the other public methods synchronize on a
 * private lock (uncontended on the vCPU path); nothing on the register path allocates.
 */
public final class Uart16550 implements PortIoDevice, SavesState<Uart16550.State> {

    /** Depth of the receive (and transmit) FIFO. */
    public static final int FIFO_SIZE = 16;
    /** Number of registers (ports) the UART occupies. */
    public static final int REGISTER_COUNT = 8;
    /** Divisor after power-on: 9600 baud. */
    public static final int DEFAULT_DIVISOR = 12;
    /** Baud rate for divisor 1: the PC's 1.8432 MHz crystal / 16. */
    public static final int BASE_BAUD = 115200;

    // Registers (offset from base).
    private static final int REG_DATA = 0;
    private static final int REG_IER = 1;
    private static final int REG_IIR_FCR = 2;
    private static final int REG_LCR = 3;
    private static final int REG_MCR = 4;
    private static final int REG_LSR = 5;
    private static final int REG_MSR = 6;
    private static final int REG_SCR = 7;

    // IER bits.
    private static final int IER_ERBFI = 0x01;
    private static final int IER_ETBEI = 0x02;
    private static final int IER_ELSI = 0x04;
    private static final int IER_EDSSI = 0x08;

    // IIR values.
    private static final int IIR_NO_INT = 0x01;
    private static final int IIR_MSI = 0x00;
    private static final int IIR_THRI = 0x02;
    private static final int IIR_RDI = 0x04;
    private static final int IIR_RLSI = 0x06;
    private static final int IIR_CTI = 0x0c;
    private static final int IIR_ID_MASK = 0x0f;
    private static final int IIR_FIFOS_ENABLED = 0xc0;

    // FCR bits.
    private static final int FCR_ENABLE = 0x01;
    private static final int FCR_RX_RESET = 0x02;
    private static final int FCR_STORED = 0xc9; // enable, DMA mode, trigger level

    // LCR bits.
    private static final int LCR_DLAB = 0x80;

    // MCR bits.
    private static final int MCR_DTR = 0x01;
    private static final int MCR_RTS = 0x02;
    private static final int MCR_OUT1 = 0x04;
    private static final int MCR_OUT2 = 0x08;
    private static final int MCR_LOOP = 0x10;
    private static final int MCR_WRITABLE = 0x1f;

    // LSR bits.
    private static final int LSR_DR = 0x01;
    private static final int LSR_OE = 0x02;
    private static final int LSR_PE = 0x04;
    private static final int LSR_FE = 0x08;
    private static final int LSR_BI = 0x10;
    private static final int LSR_THRE = 0x20;
    private static final int LSR_TEMT = 0x40;
    private static final int LSR_RX_FIFO_ERROR = 0x80;
    private static final int LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

    // MSR bits.
    private static final int MSR_DCTS = 0x01;
    private static final int MSR_DDSR = 0x02;
    private static final int MSR_TERI = 0x04;
    private static final int MSR_DDCD = 0x08;
    private static final int MSR_DELTAS = 0x0f;
    private static final int MSR_CTS = 0x10;
    private static final int MSR_DSR = 0x20;
    private static final int MSR_RI = 0x40;
    private static final int MSR_DCD = 0x80;
    private static final int MSR_INPUTS = 0xf0;

    /** Per-character flag in the receive FIFO: a break. */
    private static final byte FLAG_BREAK = 1;

    private final String name;
    private final OutputStream sink;
    private final IrqLine irq;
    private final Object lock = new Object();

    private volatile Runnable inputReadyCallback;

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
    private final byte[] rxData = new byte[FIFO_SIZE];
    private final byte[] rxFlags = new byte[FIFO_SIZE];
    private int rxHead;
    private int rxCount;
    private int rxErrorChars;
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
        synchronized (lock) {
            for (int i = 0; i < size; i++) {
                writeRegisterLocked(offset + i, (value >>> (8 * i)) & 0xff);
            }
            updateIrqLocked();
            wake = takeInputWakeupLocked();
        }
        if (wake) {
            runInputReadyCallback();
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
                if (rxErrorChars == 0) {
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
        if (rxCount == 0) {
            return rbrLatch;
        }
        int b = rxData[rxHead] & 0xff;
        if (rxFlags[rxHead] != 0) {
            rxErrorChars--;
        }
        rxHead = (rxHead + 1) % FIFO_SIZE;
        rxCount--;
        rbrLatch = b;
        if (rxCount > 0 && rxFlags[rxHead] == FLAG_BREAK) {
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
        rxHead = 0;
        rxCount = 0;
        rxErrorChars = 0;
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
        return (mcr & MCR_LOOP) != 0 ? 0 : rxCapacityLocked() - rxCount;
    }

    private boolean characterTimeoutLocked() {
        if (!fifosEnabledLocked() || rxCount == 0) {
            return false;
        }
        return immediateTimeout ? rxCount < triggerLevelLocked() : timeoutPending;
    }

    /** IIR as the guest would read it, without the read's side effect. */
    private int iirLocked() {
        int id;
        if ((ier & IER_ELSI) != 0 && (lsrErrors & LSR_ERRORS) != 0) {
            id = IIR_RLSI;
        } else if ((ier & IER_ERBFI) != 0 && characterTimeoutLocked()) {
            id = IIR_CTI;
        } else if ((ier & IER_ERBFI) != 0 && rxCount > 0
                && (!fifosEnabledLocked() || rxCount >= triggerLevelLocked())) {
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
        if (rxCount > 0) {
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
        if (rxCount >= rxCapacityLocked()) {
            lsrErrors |= LSR_OE;
            if (!fifosEnabledLocked()) {
                // 16450 mode: the new character replaces the unread one in RBR.
                if (rxFlags[rxHead] != 0) {
                    rxErrorChars--;
                }
                rxData[rxHead] = (byte) b;
                rxFlags[rxHead] = flag;
                noteErrorCharLocked(flag, true);
            }
            return false;
        }
        int tail = (rxHead + rxCount) % FIFO_SIZE;
        rxData[tail] = (byte) b;
        rxFlags[tail] = flag;
        rxCount++;
        noteErrorCharLocked(flag, rxCount == 1);
        return true;
    }

    private void noteErrorCharLocked(byte flag, boolean atTop) {
        if (flag != 0) {
            rxErrorChars++;
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
            rxPushLocked(0, FLAG_BREAK);
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
     * Chooses the character-timeout model (see the class comment): {@code true} (default) reports the
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
            if (!immediateTimeout && fifosEnabledLocked() && rxCount > 0 && !rxActivity) {
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
                    lsrLocked(), msr, scr, rxCount, rxCapacityLocked(),
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
            byte[] data = new byte[rxCount];
            byte[] flags = new byte[rxCount];
            for (int i = 0; i < rxCount; i++) {
                data[i] = rxData[(rxHead + i) % FIFO_SIZE];
                flags[i] = rxFlags[(rxHead + i) % FIFO_SIZE];
            }
            return new State(divisor, ier, fcr, lcr, mcr, scr, lsrErrors, rxFifoError, msr,
                    externalModemInputs, thrPending, timeoutPending, rxActivity, data, flags, rbrLatch);
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
            rxHead = 0;
            rxCount = s.rxData().length;
            rxErrorChars = 0;
            for (int i = 0; i < rxCount; i++) {
                rxData[i] = s.rxData()[i];
                rxFlags[i] = s.rxFlags()[i];
                if (rxFlags[i] != 0) {
                    rxErrorChars++;
                }
            }
            rbrLatch = s.rbrLatch();
            irqLevel = (iirLocked() & IIR_NO_INT) == 0 && (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
            irq.set(irqLevel); // driven even when unchanged: the machine behind the line may be new
            wake = takeInputWakeupLocked();
        }
        if (wake) {
            runInputReadyCallback();
        }
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
