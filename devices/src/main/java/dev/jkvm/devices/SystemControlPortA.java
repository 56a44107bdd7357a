package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.util.Objects;

/**
 * "System control port A" at port 0x92 (PS/2 and every chipset since): fast A20 gate and fast reset,
 * used by boot loaders to enable A20 and by some kernels to reboot.
 *
 * <p>Bit 1 is the A20 gate ({@link #a20Enabled()}; tracked only: a KVM guest's A20 is always on once
 * in protected mode, which is all modern guests need). Bit 0 going from 0 to 1 asks for a reset, as
 * QEMU's {@code port92} does; it reads back as written until the machine {@link #reset()}s, which
 * clears it (so a guest can write the same value again after the reboot). Reads return the last value
 * written.
 *
 * <pre>{@code
 * bus.register(SystemControlPortA.PORT, 1, new SystemControlPortA(control));
 * }</pre>
 */
public final class SystemControlPortA implements PortIoDevice, SavesState<SystemControlPortA.State> {

    public static final int PORT = 0x92;

    static final int FAST_RESET = 0x01;
    static final int A20 = 0x02;

    private final SystemControl control;
    private int value;

    public SystemControlPortA(SystemControl control) {
        this.control = Objects.requireNonNull(control, "control");
    }

    @Override
    public int read(int offset, int size) {
        synchronized (this) {
            return offset == 0 ? value | (size > 1 ? ~0xff : 0) : -1;
        }
    }

    @Override
    public void write(int offset, int size, int v) {
        if (offset != 0) {
            return;
        }
        boolean resetEdge;
        synchronized (this) {
            int old = value;
            value = v & 0xff;
            resetEdge = (v & FAST_RESET) != 0 && (old & FAST_RESET) == 0;
        }
        if (resetEdge) {
            control.reset();
        }
    }

    /** Whether bit 1 (A20 gate) is set. */
    public synchronized boolean a20Enabled() {
        return (value & A20) != 0;
    }

    /** The guest-visible state: the register. */
    public record State(int value) {
    }

    /** The register now. */
    @Override
    public synchronized State saveState() {
        return new State(value);
    }

    /** Puts the register back (no reset edge: restoring is not a write). */
    @Override
    public synchronized void restoreState(State s) {
        value = s.value() & 0xff;
    }

    /** Machine reset: bit 0 clears, the rest is kept (as QEMU does). */
    public synchronized void reset() {
        value &= ~FAST_RESET;
    }

    @Override
    public String name() {
        return "port92";
    }

    @Override
    public synchronized String describe() {
        return String.format("%s: value=%02x a20=%s", name(), value, (value & A20) != 0 ? "on" : "off");
    }

    @Override
    public String toString() {
        return describe();
    }
}
