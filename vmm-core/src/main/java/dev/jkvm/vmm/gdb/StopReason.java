package dev.jkvm.vmm.gdb;

/**
 * Why a vCPU stopped, as the stop reply tells gdb.
 *
 * <pre>{@code
 * StopReason r = new StopReason.Watchpoint(BreakpointKind.WRITE, 0x1000);
 * }</pre>
 */
sealed interface StopReason {

    /** SIGTRAP, the signal of every debug stop. */
    int SIGTRAP = 5;
    /** SIGINT, what an interrupt (Ctrl-C) reports. */
    int SIGINT = 2;

    /** The int3 of a software breakpoint at {@code address} (RIP points at it). */
    record SoftwareBreakpoint(long address) implements StopReason {
    }

    /** A hardware (debug register) execution breakpoint. */
    record HardwareBreakpoint(long address) implements StopReason {
    }

    /** A watchpoint hit, reported with the address gdb set it at. */
    record Watchpoint(BreakpointKind kind, long address) implements StopReason {
    }

    /** A single step finished. */
    record SingleStep() implements StopReason {
    }

    /** The debugger interrupted the running guest. */
    record Interrupted() implements StopReason {
    }

    /** Stopped without an event of its own: on attach, or held at the first instruction by -S. */
    record Paused() implements StopReason {
    }
}
