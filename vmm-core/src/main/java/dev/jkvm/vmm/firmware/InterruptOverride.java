package dev.jkvm.vmm.firmware;

/**
 * An ISA interrupt that does not reach the I/O APIC pin of its own number or does not have the
 * ISA bus's electrical conventions (edge-triggered, active high). The MADT lists it as an
 * Interrupt Source Override; the MP table as the I/O interrupt entry of that IRQ.
 *
 * <pre>{@code
 * new InterruptOverride(0, 2, Polarity.CONFORMS, Trigger.CONFORMS);      // PIT: IRQ0 -> GSI 2
 * new InterruptOverride(9, 9, Polarity.ACTIVE_HIGH, Trigger.LEVEL);      // SCI: flags 0x000d
 * }</pre>
 *
 * @param isaIrq the ISA IRQ (0..15)
 * @param gsi the global system interrupt it arrives on
 */
public record InterruptOverride(int isaIrq, int gsi, Polarity polarity, Trigger trigger) {

    /** The polarity field (bits 0-1) of the MPS INTI flags shared by the MP table and the MADT. */
    public enum Polarity {
        CONFORMS(0), ACTIVE_HIGH(1), ACTIVE_LOW(3);

        final int bits;

        Polarity(int bits) {
            this.bits = bits;
        }
    }

    /** The trigger-mode field (bits 2-3) of the MPS INTI flags. */
    public enum Trigger {
        CONFORMS(0), EDGE(1), LEVEL(3);

        final int bits;

        Trigger(int bits) {
            this.bits = bits;
        }
    }

    public InterruptOverride {
        if (isaIrq < 0 || isaIrq > 15 || gsi < 0) {
            throw new IllegalArgumentException("invalid interrupt override: IRQ " + isaIrq + " -> GSI " + gsi);
        }
        if (polarity == null || trigger == null) {
            throw new IllegalArgumentException("interrupt override of IRQ " + isaIrq + " needs a polarity and a trigger");
        }
    }

    /** The MPS INTI flags word: polarity in bits 0-1, trigger mode in bits 2-3. */
    public int flags() {
        return polarity.bits | trigger.bits << 2;
    }
}
