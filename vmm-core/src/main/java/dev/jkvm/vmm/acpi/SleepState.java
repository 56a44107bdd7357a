package dev.jkvm.vmm.acpi;

import java.util.Optional;

/**
 * The sleep states the DSDT offers and the SLP_TYP value of each (its {@code \_Sx} package's first
 * element), as QEMU's PIIX4 uses them: the guest writes {@code SLP_TYP << 10 | SLP_EN (bit 13)} to
 * PM1a_CNT to enter the state. S5 (soft off) is always offered; S3 (suspend to RAM) only when the
 * platform says so.
 *
 * <pre>{@code
 * // in the PM1a_CNT write handler:
 * SleepState.ofControlWrite(value).ifPresent(s -> { if (s == SleepState.S5) powerOff(); });
 * }</pre>
 */
public enum SleepState {
    /** Suspend to RAM. */
    S3(1),
    /** Soft off: power the machine down. */
    S5(0);

    /** PM1_CNT bit 13: the write enters the sleep state SLP_TYP names. */
    public static final int SLP_EN = 1 << 13;
    /** PM1_CNT bits 10-12. */
    public static final int SLP_TYP_SHIFT = 10;
    /** PM1_CNT bit 0: ACPI mode; jkvm has no SMI_CMD, so it must always read as set. */
    public static final int SCI_EN = 1;

    private final int slpTyp;

    SleepState(int slpTyp) {
        this.slpTyp = slpTyp;
    }

    /** The value of PM1_CNT.SLP_TYP for this state. */
    public int slpTyp() {
        return slpTyp;
    }

    /**
     * The state a write of {@code pm1Control} to PM1a_CNT enters: empty unless SLP_EN is set and
     * SLP_TYP is one of ours.
     */
    public static Optional<SleepState> ofControlWrite(int pm1Control) {
        if ((pm1Control & SLP_EN) == 0) {
            return Optional.empty();
        }
        int typ = pm1Control >>> SLP_TYP_SHIFT & 7;
        for (SleepState s : values()) {
            if (s.slpTyp == typ) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
