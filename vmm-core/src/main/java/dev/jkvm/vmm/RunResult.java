package dev.jkvm.vmm;

import dev.jkvm.vmm.vcpu.ExitReport;
import dev.jkvm.vmm.stats.VcpuReport;
import java.util.List;
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
 * @param serial what the guest wrote on COM1 (empty until the machine ended)
 * @param vcpus each vCPU's exits by mode as the run ended (empty until the machine ended)
 */
public record RunResult(Reason reason, int exitStatus, Optional<ExitReport> report, String message, String serial,
                        List<VcpuReport> vcpus) {

    public RunResult {
        vcpus = List.copyOf(vcpus);
    }

    /** The same end, with what the guest printed and its statistics. */
    public RunResult with(String serialTranscript, List<VcpuReport> reports) {
        return new RunResult(reason, exitStatus, report, message, serialTranscript, reports);
    }

    /** For a debug-exit: the value the guest wrote to port 0xf4 ({@code exitStatus >> 1}), else -1. */
    public int debugExitValue() {
        return reason == Reason.DEBUG_EXIT ? exitStatus >> 1 : -1;
    }

    /** The last {@code n} lines the guest printed, for failure messages. */
    public String serialTail(int n) {
        List<String> lines = serial.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

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
        /** The guest suspended to RAM (ACPI S3): the machine waits for a wake event; never a final result. */
        SUSPEND,
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
        return new RunResult(reason, exitStatus, Optional.empty(), message, "", List.of());
    }

    public static RunResult crash(Reason reason, ExitReport report) {
        return new RunResult(reason, CRASH_STATUS, Optional.of(report), report.headline(), "", List.of());
    }
}
