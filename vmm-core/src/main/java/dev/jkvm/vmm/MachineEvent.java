package dev.jkvm.vmm;

/**
 * What happens to a running machine that a client may want to hear of at once (QMP's
 * asynchronous events carry these): pauses, resets, the power button, sleep, the end.
 *
 * <pre>{@code
 * machine.onEvent(e -> { if (e instanceof MachineEvent.Shutdown s) System.out.println(s.reason()); });
 * }</pre>
 */
public sealed interface MachineEvent {

    /** The vCPUs were parked ({@code stop}, or a debugger stopped the guest when {@code debug}). */
    record Stop(boolean debug) implements MachineEvent {
    }

    /** The vCPUs run again. */
    record Resume() implements MachineEvent {
    }

    /**
     * The machine reset and goes on.
     *
     * @param guest whether the guest asked for it
     * @param reason QEMU's ShutdownCause name ({@code guest-reset}, {@code host-qmp-system-reset})
     */
    record Reset(boolean guest, String reason) implements MachineEvent {
    }

    /** The power button was pressed for the guest ({@code system_powerdown}). */
    record Powerdown() implements MachineEvent {
    }

    /** The guest suspended to RAM (ACPI S3). */
    record Suspend() implements MachineEvent {
    }

    /** A suspended guest woke up. */
    record Wakeup() implements MachineEvent {
    }

    /** The guest crashed in a way that ends the run (an internal error, a failed entry, a triple fault that repeats). */
    record GuestPanicked(String message) implements MachineEvent {
    }

    /**
     * The run ended, with QEMU's cause.
     *
     * @param guest whether the guest caused it
     * @param reason QEMU's ShutdownCause name ({@code guest-shutdown}, {@code host-qmp-quit}, {@code host-signal}, ...)
     */
    record Shutdown(boolean guest, String reason) implements MachineEvent {
    }
}
