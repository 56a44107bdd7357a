package dev.jkvm.devices;

/**
 * One interrupt input of the machine's interrupt controller, as a device sees it.
 *
 * <p>Devices drive the level; the machine decides how it reaches the guest (KVM_IRQ_LINE on the
 * in-kernel irqchip, an irqfd, or nothing). {@link #none()} is the line of a device that is not
 * wired, and what unit tests use when they do not care.
 */
@FunctionalInterface
public interface IrqLine {

    /** Drives the line high ({@code true}) or low. Called only on level changes by well-behaved devices. */
    void set(boolean level);

    /** An edge: high, then low. */
    default void pulse() {
        set(true);
        set(false);
    }

    /**
     * A line connected to nothing. A method, not a constant: a field initialized here would give
     * the interface a static initializer, which (with the default method above) JDK 25's AOT cache
     * takes as a reason to spin every IrqLine lambda at run time instead of keeping it.
     */
    static IrqLine none() {
        return UnwiredIrqLine.LINE;
    }
}
