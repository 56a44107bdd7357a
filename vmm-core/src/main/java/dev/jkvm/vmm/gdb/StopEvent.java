package dev.jkvm.vmm.gdb;

/**
 * vCPU {@code cpu} stopped for {@code reason}; {@link #reply} spells the {@code T} stop reply
 * (thread id = cpu + 1).
 *
 * <pre>{@code
 * new StopEvent(0, new StopReason.SoftwareBreakpoint(0x1000)).reply(true, true)  // "T05thread:01;swbreak:;"
 * }</pre>
 */
record StopEvent(int cpu, StopReason reason) {

    /** The stop reply; the swbreak/hwbreak keys only when gdb announced it understands them. */
    String reply(boolean swbreak, boolean hwbreak) {
        int signal = reason instanceof StopReason.Interrupted ? StopReason.SIGINT : StopReason.SIGTRAP;
        StringBuilder s = new StringBuilder("T").append(Hex.number(signal, 2))
                .append("thread:").append(Hex.number(cpu + 1L, 2)).append(';');
        switch (reason) {
            case StopReason.SoftwareBreakpoint b -> s.append(swbreak ? "swbreak:;" : "");
            case StopReason.HardwareBreakpoint b -> s.append(hwbreak ? "hwbreak:;" : "");
            case StopReason.Watchpoint w -> s.append(w.kind().stopKey).append(':').append(Long.toHexString(w.address())).append(';');
            default -> {
            }
        }
        return s.toString();
    }
}
