package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.board.Layout;

/**
 * The I/O ports of the ACPI fixed hardware: the PM1a event and control blocks, the PM timer and
 * the GPE0 block. The FADT points the guest at them; the devices behind them are the lead's.
 *
 * <pre>{@code
 * PmPorts.PIIX4;   // PM base 0x600 and GPE0 at 0xafe0 (Layout's), as QEMU's pc machine
 * }</pre>
 *
 * @param pm1aEvent PM1a_EVT_BLK: PM1 status (low half) and enable (high half) registers
 * @param pm1aEventLength its length in bytes (4: two 16-bit registers)
 * @param pm1aControl PM1a_CNT_BLK: SCI_EN, SLP_TYP, SLP_EN
 * @param pm1aControlLength its length in bytes (2)
 * @param pmTimer PM_TMR_BLK: the 3.579545 MHz counter
 * @param pmTimerLength its length in bytes (4)
 * @param timer32Bit whether the timer counts 32 bits (FADT flag TMR_VAL_EXT) rather than 24
 * @param gpe0 GPE0_BLK: GPE status (first half) and enable (second half) bytes
 * @param gpe0Length its length in bytes (even; 4 gives 16 GPEs)
 */
public record PmPorts(int pm1aEvent, int pm1aEventLength, int pm1aControl, int pm1aControlLength, int pmTimer,
        int pmTimerLength, boolean timer32Bit, int gpe0, int gpe0Length) {

    /** PIIX4-style ports as in QEMU's {@code pc} machine, with a 32-bit PM timer. */
    public static final PmPorts PIIX4 = new PmPorts(Layout.PM1A_EVENT, Layout.PM1A_EVENT_LENGTH, Layout.PM1A_CONTROL,
            Layout.PM1A_CONTROL_LENGTH, Layout.PM_TIMER, Layout.PM_TIMER_LENGTH, true, Layout.GPE0, Layout.GPE0_LENGTH);

    public PmPorts {
        checkBlock("PM1a_EVT_BLK", pm1aEvent, pm1aEventLength, pm1aEventLength >= 4 && pm1aEventLength % 2 == 0);
        checkBlock("PM1a_CNT_BLK", pm1aControl, pm1aControlLength, pm1aControlLength >= 2);
        checkBlock("PM_TMR_BLK", pmTimer, pmTimerLength, pmTimerLength == 4);
        checkBlock("GPE0_BLK", gpe0, gpe0Length, gpe0Length % 2 == 0);
    }

    private static void checkBlock(String name, int port, int length, boolean lengthOk) {
        if (port <= 0 || port + length > 0x10000 || !lengthOk || length > 255) {
            throw new IllegalArgumentException("invalid " + name + ": port 0x" + Integer.toHexString(port)
                    + " length " + length);
        }
    }
}
