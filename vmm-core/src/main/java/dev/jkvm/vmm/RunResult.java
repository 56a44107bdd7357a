package dev.jkvm.vmm;

import dev.jkvm.vmm.vcpu.ExitReport;
import java.util.Optional;

/**
 * How a run ended.
 *
 * <pre>{@code
 * RunResult r = machine.run();
 * if (r.reason() == RunResult.Reason.DEBUG_EXIT) assert r.exitStatus() == 85;
 * }</pre>
 *
 * @param reason what ended it
 * @param exitStatus the status the CLI exits with (see {@link Reason})
 * @param report the register and code report when the guest crashed
 * @param message one line for people
 */
public record RunResult(Reason reason, int exitStatus, Optional<ExitReport> report, String message) {

    /** Exit status of a crashed guest (triple fault, emulation failure, failed entry). */
    public static final int CRASH_STATUS = 2;
    /** Exit status after {@code -timeout}, as timeout(1) uses. */
    public static final int TIMEOUT_STATUS = 124;

    /** What ended a run, and the exit status each maps to. */
    public enum Reason {
        /** HLT with no interrupt controller to wake the vCPU: the guest is done (status 0). */
        HALTED,
        /** The guest wrote v to the debug-exit port (status {@code (v << 1) | 1}). */
        DEBUG_EXIT,
        /** The guest asked KVM to power off (status 0). */
        POWER_OFF,
        /** The guest reset the machine; without reset support this ends the run (status 0, QEMU's {@code -no-reboot}). */
        RESET,
        /** Triple fault: KVM_EXIT_SHUTDOWN (status 2, with a report). */
        TRIPLE_FAULT,
        /** KVM_EXIT_INTERNAL_ERROR, e.g. an instruction KVM's emulator cannot run (status 2, with a report). */
        INTERNAL_ERROR,
        /** KVM_EXIT_FAIL_ENTRY: the hardware refused the guest state (status 2, with a report). */
        FAIL_ENTRY,
        /** An exit jkvm does not handle (status 2, with a report). */
        UNHANDLED_EXIT,
        /** The monitor's {@code quit} (status 0, as QEMU). */
        QUIT,
        /** SIGINT or SIGTERM ended jkvm (status 0, as QEMU's "terminating on signal"). */
        SIGNAL,
        /** The run's time limit passed (status 124). */
        TIMEOUT,
        /** The machine was closed while running (status 1). */
        CLOSED,
        /** jkvm itself failed (status 1). */
        ERROR
    }

    public static RunResult of(Reason reason, int exitStatus, String message) {
        return new RunResult(reason, exitStatus, Optional.empty(), message);
    }

    public static RunResult crash(Reason reason, ExitReport report) {
        return new RunResult(reason, CRASH_STATUS, Optional.of(report), report.headline());
    }
}
