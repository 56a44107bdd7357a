package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.util.Objects;

/**
 * The PC's 8042 keyboard controller at ports 0x60 (data) and 0x64 (status/command), with a minimal
 * PS/2 keyboard behind it and no mouse: enough for Linux's {@code i8042}/{@code atkbd} probes to
 * succeed or fail quickly, for boot loaders' A20 dance, and for the classic reboot (command 0xFE).
 *
 * <h2>Controller</h2>
 * Status (0x64 read): bit 0 output buffer full, bit 1 input buffer full (always 0: commands complete
 * at once), bit 2 system flag (= command byte bit 2), bit 3 last write was a command, bit 4 keyboard
 * not inhibited (1), bit 5 the output byte is from the AUX port, bit 6 timeout (an AUX byte with no
 * mouse there). Commands: 0x20 read / 0x60 write the command byte (CTR, default 0x65 as firmware
 * leaves it: translation, AUX disabled, system flag, keyboard interrupt); 0xA7/0xA8 disable/enable
 * AUX; 0xA9 AUX test (0x00); 0xAA self-test (0x55); 0xAB keyboard test (0x00); 0xAD/0xAE
 * disable/enable keyboard; 0xC0 input port (0x80); 0xD0 read / 0xD1 write the output port (bit 0 clear
 * resets the machine, bit 1 is the A20 gate); 0xD2/0xD3 echo the next data byte as keyboard/AUX
 * input; 0xD4 send the next data byte to the AUX device; 0xDD/0xDF A20 off/on; 0xF0-0xFF pulse
 * output lines, where a clear bit 0 (0xFE) pulses reset. Others are ignored.
 *
 * <h2>Devices</h2>
 * The keyboard answers 0xFA (ACK) to everything, 0xFF with FA AA (self-test passed), 0xF2 with
 * FA AB 83 (AB 41 when the controller translates), 0xEE with EE, 0xF0 00 with the scancode set, and
 * takes the parameter byte of 0xED, 0xF0, 0xF3. It never sends keys. There is no mouse: a byte for the
 * AUX device comes back as 0xFE flagged timeout, as a real controller with an empty AUX port
 * reports, which ends Linux's psmouse probe at once instead of after its timeouts.
 *
 * <h2>Interrupts</h2>
 * IRQ 1 is high while the output buffer holds a keyboard byte and CTR bit 0 is set; IRQ 12 likewise
 * for AUX bytes and CTR bit 1. Further bytes wait in a queue and load when the guest reads 0x60;
 * the line then drops and rises again within that read, so an edge-triggered input sees each byte.
 * Reading 0x60 with the buffer empty returns the last byte read.
 *
 * <p>The two ports are separate views ({@link #dataPort()}, {@link #statusCommandPort()}) because
 * 0x61-0x63 in between belong to others (port 0x61 is the PIT's speaker gate, in KVM).
 * {@link SystemControl#reset()} is called outside the controller's lock.
 *
 * <pre>{@code
 * I8042 kbc = new I8042(control, irq1, irq12);
 * kbc.registerOn(bus);   // 0x60 and 0x64
 * }</pre>
 */
public final class I8042 implements SavesState<I8042.State> {

    public static final int DATA_PORT = 0x60;
    public static final int STATUS_COMMAND_PORT = 0x64;

    static final int STATUS_OBF = 0x01;
    static final int STATUS_SYS = 0x04;
    static final int STATUS_CMD = 0x08;
    static final int STATUS_UNLOCKED = 0x10;
    static final int STATUS_AUX_OBF = 0x20;
    static final int STATUS_TIMEOUT = 0x40;

    static final int CTR_KBD_INT = 0x01;
    static final int CTR_AUX_INT = 0x02;
    static final int CTR_SYS = 0x04;
    static final int CTR_KBD_DISABLE = 0x10;
    static final int CTR_AUX_DISABLE = 0x20;
    static final int CTR_TRANSLATE = 0x40;
    /** The command byte after firmware: translate, AUX off, POST passed, keyboard interrupt on. */
    static final int CTR_DEFAULT = CTR_TRANSLATE | CTR_AUX_DISABLE | CTR_SYS | CTR_KBD_INT;

    static final int OUT_RESET = 0x01;
    static final int OUT_A20 = 0x02;
    /** Output port at power-on: not in reset, A20 on, the unused lines high (QEMU's value). */
    static final int OUT_DEFAULT = 0xcf;

    private static final int FROM_AUX = 0x100;
    private static final int TIMEOUT = 0x200;
    private static final int QUEUE_SIZE = 16;

    private final SystemControl control;
    private final IrqLine kbdIrq;
    private final IrqLine auxIrq;
    private final Object lock = new Object();
    private final PortIoDevice dataPort = new DataView();
    private final PortIoDevice statusCommandPort = new StatusCommandView();

    // All below guarded by lock.
    private int ctr;
    private int outputPort;
    private boolean lastWriteCommand;
    /** The controller command waiting for its data byte, or 0. */
    private int pendingCommand;
    /** The output buffer: byte | FROM_AUX | TIMEOUT, or -1 when empty. */
    private int output = -1;
    private int lastRead;
    private final int[] queue = new int[QUEUE_SIZE];
    private int queueHead;
    private int queueCount;
    /** The keyboard command waiting for its parameter, or 0. */
    private int keyboardPending;
    private boolean scanning;
    private int scancodeSet;
    private boolean kbdIrqLevel;
    private boolean auxIrqLevel;

    /**
     * @param control told of resets (command 0xFE, output port bit 0 cleared)
     * @param kbdIrq  IRQ 1
     * @param auxIrq  IRQ 12
     */
    public I8042(SystemControl control, IrqLine kbdIrq, IrqLine auxIrq) {
        this.control = Objects.requireNonNull(control, "control");
        this.kbdIrq = Objects.requireNonNull(kbdIrq, "kbdIrq");
        this.auxIrq = Objects.requireNonNull(auxIrq, "auxIrq");
        synchronized (lock) {
            resetLocked();
        }
    }

    /** Port 0x60: register with length 1. */
    public PortIoDevice dataPort() {
        return dataPort;
    }

    /** Port 0x64: register with length 1. */
    public PortIoDevice statusCommandPort() {
        return statusCommandPort;
    }

    /** Registers both views at 0x60 and 0x64. */
    public void registerOn(PortBus bus) {
        bus.register(DATA_PORT, 1, dataPort);
        bus.register(STATUS_COMMAND_PORT, 1, statusCommandPort);
    }

    // ---------------------------------------------------------------------------------------------
    // Guest side

    private int readData() {
        synchronized (lock) {
            if (output >= 0) {
                lastRead = output & 0xff;
                output = -1;
                updateIrqLocked(); // the line drops ...
                loadOutputLocked();
                updateIrqLocked(); // ... and rises again for a queued byte: a fresh edge
            }
            return lastRead;
        }
    }

    private int readStatus() {
        synchronized (lock) {
            return readStatusBitsLocked();
        }
    }

    private void writeData(int v) {
        boolean reset;
        synchronized (lock) {
            lastWriteCommand = false;
            int command = pendingCommand;
            pendingCommand = 0;
            reset = switch (command) {
                case 0x60 -> {
                    ctr = v;
                    yield false;
                }
                case 0xd1 -> writeOutputPortLocked(v);
                case 0xd2 -> {
                    enqueueLocked(v);
                    yield false;
                }
                case 0xd3 -> {
                    enqueueLocked(v | FROM_AUX);
                    yield false;
                }
                case 0xd4 -> {
                    enqueueLocked(0xfe | FROM_AUX | TIMEOUT); // no mouse answers
                    yield false;
                }
                case 0 -> {
                    ctr &= ~CTR_KBD_DISABLE; // sending to the keyboard re-enables its port
                    keyboardWriteLocked(v);
                    yield false;
                }
                default -> false; // 0x61-0x7f: other controller RAM, not kept
            };
            updateIrqLocked();
        }
        if (reset) {
            control.reset();
        }
    }

    private void writeCommand(int c) {
        boolean reset = false;
        synchronized (lock) {
            lastWriteCommand = true;
            pendingCommand = 0;
            if (c == 0x20) {
                enqueueLocked(ctr);
            } else if (c > 0x20 && c < 0x40) {
                enqueueLocked(0); // other controller RAM bytes: not kept
            } else if (c >= 0x60 && c < 0x80) {
                pendingCommand = c;
            } else if (c >= 0xf0) {
                reset = (c & OUT_RESET) == 0; // pulse the output lines whose bit is 0
            } else {
                switch (c) {
                    case 0xa4 -> enqueueLocked(0xf1); // no password installed
                    case 0xa7 -> ctr |= CTR_AUX_DISABLE;
                    case 0xa8 -> ctr &= ~CTR_AUX_DISABLE;
                    case 0xa9, 0xab -> enqueueLocked(0x00); // interface tests pass
                    case 0xaa -> {
                        ctr |= CTR_SYS;
                        enqueueLocked(0x55);
                    }
                    case 0xad -> ctr |= CTR_KBD_DISABLE;
                    case 0xae -> ctr &= ~CTR_KBD_DISABLE;
                    case 0xc0 -> enqueueLocked(0x80);
                    case 0xd0 -> enqueueLocked(outputPortValueLocked());
                    case 0xd1, 0xd2, 0xd3, 0xd4 -> pendingCommand = c;
                    case 0xdd -> outputPort &= ~OUT_A20;
                    case 0xdf -> outputPort |= OUT_A20;
                    case 0xe0 -> enqueueLocked(0x00);
                    default -> {
                        // unknown commands are ignored
                    }
                }
            }
            updateIrqLocked();
        }
        if (reset) {
            control.reset();
        }
    }

    /** @return whether the write asks for a reset */
    private boolean writeOutputPortLocked(int v) {
        outputPort = v;
        return (v & OUT_RESET) == 0;
    }

    private int outputPortValueLocked() {
        int v = outputPort & ~0x30;
        if (output >= 0) {
            v |= (output & FROM_AUX) != 0 ? 0x20 : 0x10;
        }
        return v;
    }

    private void keyboardWriteLocked(int v) {
        int pending = keyboardPending;
        keyboardPending = 0;
        if (pending == 0xf0) {
            enqueueLocked(0xfa);
            if (v == 0) {
                enqueueLocked(translatedSetLocked());
            } else if (v <= 3) {
                scancodeSet = v;
            }
            return;
        }
        if (pending != 0) { // the parameter of 0xED (LEDs) or 0xF3 (typematic)
            enqueueLocked(0xfa);
            return;
        }
        switch (v) {
            case 0xed, 0xf0, 0xf3 -> {
                enqueueLocked(0xfa);
                keyboardPending = v;
            }
            case 0xee -> enqueueLocked(0xee);
            case 0xf2 -> {
                enqueueLocked(0xfa);
                enqueueLocked(0xab);
                enqueueLocked((ctr & CTR_TRANSLATE) != 0 ? 0x41 : 0x83);
            }
            case 0xf4 -> {
                scanning = true;
                enqueueLocked(0xfa);
            }
            case 0xf5 -> {
                scanning = false;
                enqueueLocked(0xfa);
            }
            case 0xff -> {
                scanning = true;
                scancodeSet = 2;
                enqueueLocked(0xfa);
                enqueueLocked(0xaa);
            }
            default -> enqueueLocked(0xfa);
        }
    }

    /** The scancode set number as the keyboard reports it, through the controller's translation. */
    private int translatedSetLocked() {
        if ((ctr & CTR_TRANSLATE) == 0) {
            return scancodeSet;
        }
        return switch (scancodeSet) {
            case 1 -> 0x43;
            case 3 -> 0x3f;
            default -> 0x41;
        };
    }

    private void enqueueLocked(int entry) {
        if (queueCount == QUEUE_SIZE) {
            return; // a guest that never reads: drop, as the chip's devices would
        }
        queue[(queueHead + queueCount) % QUEUE_SIZE] = entry;
        queueCount++;
        loadOutputLocked();
    }

    private void loadOutputLocked() {
        if (output < 0 && queueCount > 0) {
            output = queue[queueHead];
            queueHead = (queueHead + 1) % QUEUE_SIZE;
            queueCount--;
        }
    }

    private void updateIrqLocked() {
        boolean full = output >= 0;
        boolean aux = full && (output & FROM_AUX) != 0;
        boolean kbd = full && !aux && (ctr & CTR_KBD_INT) != 0;
        boolean mouse = aux && (ctr & CTR_AUX_INT) != 0;
        if (kbd != kbdIrqLevel) {
            kbdIrqLevel = kbd;
            kbdIrq.set(kbd);
        }
        if (mouse != auxIrqLevel) {
            auxIrqLevel = mouse;
            auxIrq.set(mouse);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Host side

    /** Whether the output port's A20 gate (bit 1) is on. */
    public boolean a20Enabled() {
        synchronized (lock) {
            return (outputPort & OUT_A20) != 0;
        }
    }

    /** The command byte (CTR). */
    public int commandByte() {
        synchronized (lock) {
            return ctr;
        }
    }

    /** The guest-visible state: command byte, output port, the output buffer and queue, the keyboard's mode. */
    public record State(int ctr, int outputPort, boolean lastWriteCommand, int pendingCommand, int output,
                        int lastRead, int[] queue, int keyboardPending, boolean scanning, int scancodeSet) {
        public State {
            if (queue.length > QUEUE_SIZE) {
                throw new IllegalArgumentException("a queue of " + queue.length + " bytes (at most " + QUEUE_SIZE + ")");
            }
        }
    }

    /** The guest-visible state now. */
    @Override
    public State saveState() {
        synchronized (lock) {
            int[] q = new int[queueCount];
            for (int i = 0; i < queueCount; i++) {
                q[i] = queue[(queueHead + i) % QUEUE_SIZE];
            }
            return new State(ctr, outputPort, lastWriteCommand, pendingCommand, output, lastRead, q,
                    keyboardPending, scanning, scancodeSet);
        }
    }

    /** Puts the controller back to {@code s}; IRQ 1 and 12 are driven to the levels it implies. */
    @Override
    public void restoreState(State s) {
        synchronized (lock) {
            ctr = s.ctr();
            outputPort = s.outputPort();
            lastWriteCommand = s.lastWriteCommand();
            pendingCommand = s.pendingCommand();
            output = s.output();
            lastRead = s.lastRead();
            queueHead = 0;
            queueCount = s.queue().length;
            System.arraycopy(s.queue(), 0, queue, 0, queueCount);
            keyboardPending = s.keyboardPending();
            scanning = s.scanning();
            scancodeSet = s.scancodeSet();
            boolean aux = output >= 0 && (output & FROM_AUX) != 0;
            kbdIrqLevel = output >= 0 && !aux && (ctr & CTR_KBD_INT) != 0;
            auxIrqLevel = aux && (ctr & CTR_AUX_INT) != 0;
            kbdIrq.set(kbdIrqLevel); // driven even when unchanged: the machine behind the lines may be new
            auxIrq.set(auxIrqLevel);
        }
    }

    /** Machine reset: controller and keyboard to their initial state, both lines low. */
    public void reset() {
        synchronized (lock) {
            resetLocked();
        }
    }

    private void resetLocked() {
        ctr = CTR_DEFAULT;
        outputPort = OUT_DEFAULT;
        lastWriteCommand = false;
        pendingCommand = 0;
        output = -1;
        lastRead = 0;
        queueHead = 0;
        queueCount = 0;
        keyboardPending = 0;
        scanning = true;
        scancodeSet = 2;
        updateIrqLocked();
    }

    /** {@code i8042: status=1c ctr=65 outport=cf out=-- queued=0 a20=on kbd=scanning set 2}. */
    public String describe() {
        synchronized (lock) {
            int s = readStatusBitsLocked();
            return String.format("i8042: status=%02x ctr=%02x outport=%02x out=%s queued=%d a20=%s kbd=%s set %d",
                    s, ctr, outputPort, output < 0 ? "--" : String.format("%02x", output & 0xff), queueCount,
                    (outputPort & OUT_A20) != 0 ? "on" : "off", scanning ? "scanning" : "disabled",
                    scancodeSet);
        }
    }

    private int readStatusBitsLocked() {
        int s = STATUS_UNLOCKED | (ctr & CTR_SYS) | (lastWriteCommand ? STATUS_CMD : 0);
        if (output >= 0) {
            s |= STATUS_OBF | ((output & FROM_AUX) != 0 ? STATUS_AUX_OBF : 0)
                    | ((output & TIMEOUT) != 0 ? STATUS_TIMEOUT : 0);
        }
        return s;
    }

    @Override
    public String toString() {
        return describe();
    }

    private final class DataView implements PortIoDevice {
        @Override
        public int read(int offset, int size) {
            return offset == 0 ? readData() | (size > 1 ? ~0xff : 0) : -1;
        }

        @Override
        public void write(int offset, int size, int value) {
            if (offset == 0) {
                writeData(value & 0xff);
            }
        }

        @Override
        public String name() {
            return "i8042-data";
        }

        @Override
        public String describe() {
            return I8042.this.describe();
        }
    }

    private final class StatusCommandView implements PortIoDevice {
        @Override
        public int read(int offset, int size) {
            return offset == 0 ? readStatus() | (size > 1 ? ~0xff : 0) : -1;
        }

        @Override
        public void write(int offset, int size, int value) {
            if (offset == 0) {
                writeCommand(value & 0xff);
            }
        }

        @Override
        public String name() {
            return "i8042-cmd";
        }

        @Override
        public String describe() {
            return I8042.this.describe();
        }
    }
}
