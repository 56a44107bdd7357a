package dev.jkvm.vmm.stats;

import java.util.ArrayList;
import java.util.List;

/**
 * What one vCPU's run loop counts, in user mode, per exit: preallocated arrays written only by the
 * vCPU thread, so the exit path neither allocates nor locks. Other threads read them for
 * {@code info exits} and {@code -stats} through {@link #snapshot}.
 *
 * <pre>{@code
 * counters.portExit(0x3f8, true, 900);   // an OUT to COM1, handled in 900 ns
 * }</pre>
 */
public final class VcpuCounters {

    /** KVM exit reasons are small numbers (37 in Linux 6.1); larger ones count in the last slot. */
    public static final int REASONS = 64;

    private final long[] exits = new long[REASONS];
    private final long[] exitNanos = new long[REASONS];
    private final CounterTable ports = new CounterTable(256);
    private final CounterTable mmio = new CounterTable(256);
    private long nanosInKvmRun;
    private long nanosOutside;
    private long interruptions;

    /** A port-I/O exit: {@code out} for OUT/OUTS, handled in {@code nanos}. */
    public void portExit(int port, boolean out, long nanos) {
        ports.add((long) port << 1 | (out ? 1 : 0), nanos);
    }

    /** An MMIO exit at {@code address}. */
    public void mmioExit(long address, boolean write, long nanos) {
        mmio.add((address >>> 12) << 1 | (write ? 1 : 0), nanos);
    }

    /** Any exit that reached user mode, by {@code KVM_EXIT_*} reason. */
    public void exit(int reason, long nanos) {
        int i = reason >= 0 && reason < REASONS ? reason : REASONS - 1;
        exits[i]++;
        exitNanos[i] += nanos;
    }

    /** Time spent inside {@code KVM_RUN}. */
    public void inKvmRun(long nanos) {
        nanosInKvmRun += nanos;
    }

    /** Time spent outside it (handling exits, parked, ...). */
    public void outside(long nanos) {
        nanosOutside += nanos;
    }

    /** A {@code KVM_RUN} that returned for a signal or {@code immediate_exit} (a kick), not an exit. */
    public void interrupted() {
        interruptions++;
    }

    /** A consistent-enough copy for display (values may lag the vCPU by an exit). */
    public UserModeStats snapshot() {
        List<UserModeStats.ByReason> reasons = new ArrayList<>();
        for (int r = 0; r < REASONS; r++) {
            if (exits[r] > 0) {
                reasons.add(new UserModeStats.ByReason(r, exits[r], exitNanos[r]));
            }
        }
        List<UserModeStats.ByPort> byPort = new ArrayList<>();
        ports.forEachKey(k -> byPort.add(k == CounterTable.OVERFLOW
                ? new UserModeStats.ByPort(-1, false, ports.count(k), ports.nanos(k))
                : new UserModeStats.ByPort((int) (k >>> 1), (k & 1) != 0, ports.count(k), ports.nanos(k))));
        // jkvm's own lambdas, which the AOT cache keeps; Comparator.comparing's are spun at start-up
        byPort.sort((a, b) -> a.port() != b.port() ? Integer.compare(a.port(), b.port()) : Boolean.compare(a.out(), b.out()));
        List<UserModeStats.ByPage> byPage = new ArrayList<>();
        mmio.forEachKey(k -> byPage.add(k == CounterTable.OVERFLOW
                ? new UserModeStats.ByPage(-1, false, mmio.count(k), mmio.nanos(k))
                : new UserModeStats.ByPage((k >>> 1) << 12, (k & 1) != 0, mmio.count(k), mmio.nanos(k))));
        byPage.sort((a, b) -> a.page() != b.page() ? Long.compare(a.page(), b.page()) : Boolean.compare(a.write(), b.write()));
        return new UserModeStats(reasons, byPort, byPage, nanosInKvmRun, nanosOutside, interruptions);
    }
}
