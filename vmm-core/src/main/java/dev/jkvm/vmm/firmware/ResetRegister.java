package dev.jkvm.vmm.firmware;

import dev.jkvm.devices.ResetControlRegister;
import dev.jkvm.vmm.board.Layout;

/**
 * The I/O port the guest writes one byte to in order to reset the machine (FADT RESET_REG).
 *
 * <pre>{@code
 * ResetRegister.PC;   // 0x06 to port 0xcf9: the PIIX/ICH reset control register, hard reset
 * }</pre>
 *
 * @param port the I/O port
 * @param value the byte that resets
 */
public record ResetRegister(int port, int value) {

    /** Port 0xcf9 (Reset Control Register), value 0x06 (SYS_RST | RST_CPU). */
    public static final ResetRegister PC = new ResetRegister(Layout.RESET_CONTROL, ResetControlRegister.ACPI_RESET_VALUE);

    public ResetRegister {
        if (port <= 0 || port > 0xFFFF || value < 0 || value > 0xFF) {
            throw new IllegalArgumentException("invalid reset register: port 0x" + Integer.toHexString(port)
                    + " value " + value);
        }
    }
}
