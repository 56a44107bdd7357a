package dev.jkvm.devices;

/**
 * What a guest can ask of the machine as a whole through its chipset: reset it, turn it off, put it
 * to sleep. Implemented by the machine; called by the devices that decode the requests
 * ({@link I8042} command 0xFE, {@link SystemControlPortA} port 0x92, {@link ResetControlRegister}
 * port 0xCF9, {@link AcpiPmBlock} PM1a_CNT.SLP_EN).
 *
 * <p>Calls arrive on the vCPU thread that executed the guest's {@code out}, with no device lock
 * held. An implementation must not block: it records the request and returns (e.g. asks the run loop
 * to stop the vCPUs and reset), because the calling vCPU is itself one of those to stop.
 *
 * <pre>{@code
 * SystemControl control = new SystemControl() {
 *     public void reset() { runControl.requestReset(); }
 *     public void powerOff() { runControl.end(...); }
 *     public void sleep(int slpTyp) { if (slpTyp == 0) powerOff(); } // QEMU's PIIX4 \_S5 = 0
 * };
 * }</pre>
 */
public interface SystemControl {

    /** A system reset: every CPU back to its reset vector, devices reset (CMOS RAM is kept). */
    void reset();

    /** Soft power off (ACPI S5), as the guest's shutdown requests it. */
    void powerOff();

    /**
     * The guest wrote PM1_CNT with SLP_EN set. {@code slpTyp} is the SLP_TYP field (0-7) it wrote,
     * whose meaning (S1..S5) is whatever the machine's DSDT {@code \_Sx} packages declared; QEMU's
     * PIIX4 tables use 0 for S5 (power off) and 1 for S3.
     */
    void sleep(int slpTyp);
}
