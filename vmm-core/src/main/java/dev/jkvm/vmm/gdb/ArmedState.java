package dev.jkvm.vmm.gdb;

import java.util.Arrays;

/**
 * What the debugger armed for the run now in progress, frozen when it resumed the vCPUs and
 * read by vCPU threads to tell the debugger's #BP/#DB exits from the guest's own.
 *
 * <pre>{@code
 * StopReason why = armed.classify(0, 3, rip, 0);   // a SoftwareBreakpoint, or null: the guest's own int3
 * }</pre>
 *
 * @param breakpoints software breakpoint addresses, sorted unsigned
 * @param slots the four debug-register slots (null = free)
 * @param debug per vCPU, what {@code KVM_SET_GUEST_DEBUG} was given
 * @param watch write watchpoints the stub emulates by single-stepping (null: none, or the host's
 *     debug registers do it); every vCPU then steps, whether or not the debugger asked it to
 * @param stepRequested per vCPU, whether the debugger asked for a single step
 */
record ArmedState(long[] breakpoints, HardwareBreakpoints.Slot[] slots, GuestDebug[] debug, WatchEmulation watch,
                  boolean[] stepRequested) {

    /** What the debugger armed, with no emulated watchpoint: a vCPU steps only when asked to. */
    ArmedState(long[] breakpoints, HardwareBreakpoints.Slot[] slots, GuestDebug[] debug) {
        this(breakpoints, slots, debug, null, stepsOf(debug));
    }

    private static boolean[] stepsOf(GuestDebug[] debug) {
        boolean[] steps = new boolean[debug.length];
        for (int i = 0; i < debug.length; i++) {
            steps[i] = debug[i].singleStep();
        }
        return steps;
    }

    /** Nothing armed: no debugger, or it has detached. */
    static ArmedState none(int cpus) {
        GuestDebug[] off = new GuestDebug[cpus];
        Arrays.fill(off, GuestDebug.OFF);
        return new ArmedState(new long[0], new HardwareBreakpoints.Slot[HardwareBreakpoints.SLOTS], off);
    }

    /**
     * Why a debug exit stops the machine for the debugger, or null when the exception belongs
     * to the guest. {@code pc} is the linear RIP KVM reports; {@code dr6} its DR6 value.
     */
    StopReason classify(int cpu, int exception, long pc, long dr6) {
        if (exception == GuestDebug.ExceptionVector.BP) {
            for (long address : breakpoints) {
                if (address == pc) {
                    return new StopReason.SoftwareBreakpoint(pc);
                }
            }
            return null;
        }
        if (exception != GuestDebug.ExceptionVector.DB) {
            return null;
        }
        // Debug-register hits first: a step whose instruction wrote a watched location is told
        // as the watchpoint (gdb ends the step there too).
        for (int n = 0; n < slots.length; n++) {
            HardwareBreakpoints.Slot s = slots[n];
            if ((dr6 & (1L << n)) != 0 && s != null) {
                return s.kind() == BreakpointKind.HARDWARE
                        ? new StopReason.HardwareBreakpoint(s.requestAddress())
                        : new StopReason.Watchpoint(s.kind(), s.requestAddress());
            }
        }
        if ((dr6 & GuestDebug.ExceptionVector.DR6_BS) != 0 && stepped(cpu)) {
            return new StopReason.SingleStep();
        }
        return null;
    }

    /** Whether the debugger asked vCPU {@code cpu} for a single step. */
    boolean stepped(int cpu) {
        return cpu < stepRequested.length && stepRequested[cpu];
    }

    /** What vCPU {@code cpu} was given. */
    GuestDebug debugOf(int cpu) {
        return cpu < debug.length ? debug[cpu] : GuestDebug.OFF;
    }
}
