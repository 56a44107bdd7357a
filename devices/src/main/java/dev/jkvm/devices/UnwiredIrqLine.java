package dev.jkvm.devices;

/** Holds {@link IrqLine#none()}'s line (see there why it is not a constant of the interface). */
final class UnwiredIrqLine {

    private UnwiredIrqLine() {
    }

    static final IrqLine LINE = level -> { };
}
