package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.util.Objects;

/**
 * The PIIX3/PIIX4 reset control register at port 0xCF9: the ACPI FADT's reset register on QEMU's PC
 * machine, and the first way Linux tries to reboot ({@code reboot=acpi} writes 0x06 here).
 *
 * <p>A write with bit 2 (RST_CPU) set asks the machine for a reset, whatever bit 1 (SYS_RST, hard
 * versus soft) says: a virtual machine has no difference to offer, and QEMU resets on either. A write
 * without bit 2 only stores bit 1, which is all a read returns.
 *
 * <pre>{@code
 * bus.register(ResetControlRegister.PORT, 1, new ResetControlRegister(control));
 * }</pre>
 */
public final class ResetControlRegister implements PortIoDevice, SavesState<ResetControlRegister.State> {

    public static final int PORT = 0xcf9;
    /** What the ACPI FADT tells the OS to write (RESET_VALUE) on QEMU's PC machine. */
    public static final int ACPI_RESET_VALUE = 0x06;

    static final int SYS_RST = 0x02;
    static final int RST_CPU = 0x04;

    private final SystemControl control;
    private volatile int value;

    public ResetControlRegister(SystemControl control) {
        this.control = Objects.requireNonNull(control, "control");
    }

    @Override
    public int read(int offset, int size) {
        return offset == 0 ? value | (size > 1 ? ~0xff : 0) : -1; // only one port: the rest floats high
    }

    @Override
    public void write(int offset, int size, int v) {
        if (offset != 0) {
            return;
        }
        if ((v & RST_CPU) != 0) {
            control.reset();
            return;
        }
        value = v & SYS_RST;
    }

    /** The guest-visible state: the register's SYS_RST bit. */
    public record State(int value) {
    }

    /** The register now. */
    @Override
    public State saveState() {
        return new State(value);
    }

    /** Puts the register back (no reset: restoring is not a write). */
    @Override
    public void restoreState(State s) {
        value = s.value() & SYS_RST;
    }

    /** Machine reset: the register returns to 0. */
    public void reset() {
        value = 0;
    }

    @Override
    public String name() {
        return "piix-rcr";
    }

    @Override
    public String describe() {
        return String.format("%s: rcr=%02x", name(), value);
    }

    @Override
    public String toString() {
        return describe();
    }
}
