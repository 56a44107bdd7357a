package dev.jkvm.vmm.host;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.kvm.abi.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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

    /**
     * The calling thread's own stat file, kept open: each reading is one {@code pread} and a scan of
     * its bytes, where {@link #of} opens, reads and splits the file (a vCPU thread reads its times as
     * each vCPU it runs ends, between the guest's end and the run's). Used by its thread only.
     */
    public static final class Own implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment buf = arena.allocate(2048); // 52 numbers after a comm of at most 15 bytes
        private final MemorySegment capture = Libc.newErrnoCapture(arena);
        private final int fd;

        /** @throws KvmException when the file cannot be opened (no /proc) */
        public Own() {
            try {
                fd = Libc.open("/proc/thread-self/stat", LibcConstants.O_RDONLY | LibcConstants.O_CLOEXEC);
            } catch (KvmException e) {
                arena.close();
                throw e;
            }
        }

        /** The thread's times now, or null when the file could not be read. */
        public ThreadTimes read() {
            try {
                return parse(buf, Libc.pread(capture, fd, buf, 0));
            } catch (KvmException e) {
                return null;
            }
        }

        @Override
        public void close() {
            Libc.close(fd);
            arena.close();
        }
    }

    /** Fields 14, 15 and 43 of the first {@code length} bytes of a stat file in {@code b}, or null when it has no command name. */
    static ThreadTimes parse(MemorySegment b, long length) {
        long i = length - 1;
        while (i >= 0 && b.get(JAVA_BYTE, i) != ')') {
            i--; // the name may hold spaces and parentheses: the last ')' ends it
        }
        if (i < 0) {
            return null;
        }
        long[] f = new long[44];
        int field = 3;
        long v = 0;
        for (i += 2; i < length && field < f.length; i++) {
            byte c = b.get(JAVA_BYTE, i);
            if (c == ' ' || c == '\n') {
                f[field++] = v;
                v = 0;
            } else if (c >= '0' && c <= '9') {
                v = v * 10 + (c - '0');
            }
        }
        if (field < f.length) {
            f[field] = v; // the last field read, if the file ended without a newline
        }
        long tick = 1_000_000_000L / ClockTicks.PER_SECOND;
        return new ThreadTimes(f[14] * tick, f[15] * tick, f[43] * tick);
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
