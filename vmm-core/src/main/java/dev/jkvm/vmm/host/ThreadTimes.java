package dev.jkvm.vmm.host;

import dev.jkvm.kvm.abi.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time the host accounted to one thread, from {@code /proc/self/task/TID/stat}: user
 * time, system time and guest time (fields 14, 15 and 43), in nanoseconds.
 *
 * <p>Why guest time may be zero: the kernel charges time spent in guest mode to {@code guest_time}
 * only where its KVM module accounts it so; nested and paravirtualised hosts (kvm_pvm) charge it
 * as system time instead. {@link #guestAccounted()} tells the two cases apart for display.
 *
 * @param userNanos time in user mode (jkvm's own code)
 * @param systemNanos time in kernel mode (KVM handling exits, and guest time where not split out)
 * @param guestNanos time in guest mode, where the host accounts it
 */
public record ThreadTimes(long userNanos, long systemNanos, long guestNanos) {

    /** The unit of /proc's times: {@code AT_CLKTCK} of the process's auxiliary vector (sysconf(_SC_CLK_TCK) reads the same). */
    private static final class ClockTicks {
        static final long PER_SECOND = read();

        private static long read() {
            try {
                ByteBuffer auxv = ByteBuffer.wrap(Files.readAllBytes(Path.of("/proc/self/auxv"))).order(ByteOrder.LITTLE_ENDIAN);
                while (auxv.remaining() >= 16) {
                    long type = auxv.getLong();
                    long value = auxv.getLong();
                    if (type == Syscalls.AT_CLKTCK && value > 0) {
                        return value;
                    }
                }
            } catch (IOException e) {
                // below: Linux's USER_HZ on x86
            }
            return 100;
        }
    }

    /** Whether the host split guest time out of system time for this thread. */
    public boolean guestAccounted() {
        return guestNanos > 0;
    }

    /** What the thread used since {@code earlier} (a reused thread's times count from when its previous work ended). */
    public ThreadTimes since(ThreadTimes earlier) {
        return new ThreadTimes(userNanos - earlier.userNanos, systemNanos - earlier.systemNanos, guestNanos - earlier.guestNanos);
    }

    /** The thread's times now, or null when the thread is gone. */
    public static ThreadTimes of(int tid) {
        String[] f = TaskStat.fields(tid);
        if (f == null) {
            return null;
        }
        long tick = 1_000_000_000L / ClockTicks.PER_SECOND;
        return new ThreadTimes(Long.parseLong(f[14 - 3]) * tick, Long.parseLong(f[15 - 3]) * tick,
                Long.parseLong(f[43 - 3]) * tick);
    }
}
