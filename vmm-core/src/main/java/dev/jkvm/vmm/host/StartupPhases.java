package dev.jkvm.vmm.host;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;

/**
 * Timestamps of the start-up phases, printed with {@code JKVM_DEBUG=startup}: the
 * table in docs/benchmarks.md comes from it. The launcher hands its own start in
 * {@code JKVM_LAUNCH_US} (bash's {@code $EPOCHREALTIME}, no fork), so the JVM's own start-up shows as
 * the first phase. Off, a mark is one static boolean test. On, a mark's own reads (interpreted, ~0.1 ms
 * for the thread's CPU, more for the process's) are left out of the thread column: each phase
 * counts from the end of its thread's previous mark.
 */
public final class StartupPhases {

    private static final boolean ON = enabled(System.getenv("JKVM_DEBUG"));
    private static final int MAX = 64;
    private static final String[] NAMES = new String[MAX];
    private static final long[] MICROS = new long[MAX];
    private static final long[] THREAD_CPU_NANOS = new long[MAX];
    /** The thread's CPU time when its mark had done its own reads. */
    private static final long[] THREAD_CPU_AFTER_NANOS = new long[MAX];
    private static final long[] PROCESS_CPU_NANOS = new long[MAX];
    private static final long[] THREAD_IDS = new long[MAX];
    private static int count;
    /** Set by the first mark, after its first reading (its classes would count as the JVM's start). */
    private static ThreadMXBean threads;

    private StartupPhases() {
    }

    static boolean enabled(String debug) {
        return debug != null && debug.contains("startup");
    }

    /** Whether phases are being recorded. */
    public static boolean on() {
        return ON;
    }

    /** Records that the phase named {@code name} has just ended. */
    public static synchronized void mark(String name) {
        if (ON && count < MAX) {
            THREAD_CPU_NANOS[count] = threadCpuNanos();
            Instant now = Instant.now();
            MICROS[count] = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
            NAMES[count] = name;
            THREAD_IDS[count] = Thread.currentThread().threadId();
            PROCESS_CPU_NANOS[count] = processCpuNanos();
            if (threads == null) {
                threads = ManagementFactory.getThreadMXBean();
            }
            THREAD_CPU_AFTER_NANOS[count] = threadCpuNanos();
            count++;
        }
    }

    /** Prints the phases since the launcher started (or since the first mark) to {@code err}. */
    public static synchronized void print(PrintStream err) {
        if (!ON || count == 0) {
            return;
        }
        long origin = launchMicros(System.getenv("JKVM_LAUNCH_US"), MICROS[0]);
        long previous = origin;
        err.println("jkvm: start-up phases, in ms: wall time since the launcher started, the phase's wall time,"
                + " the CPU time the marking thread spent since its previous mark, and the whole JVM's (JIT, GC, other threads)");
        err.printf("  %-44s %8s %8s %8s %8s%n", "phase ends", "at", "wall", "thread", "process");
        if (origin != MICROS[0]) {
            err.printf("  %-44s %8s%n", "launcher started", "0.0");
        }
        for (int i = 0; i < count; i++) {
            err.printf("  %-44s %8.1f %8.1f %8.1f %8.1f%n", NAMES[i], (MICROS[i] - origin) / 1000.0,
                    (MICROS[i] - previous) / 1000.0, (THREAD_CPU_NANOS[i] - previousOfThread(i)) / 1e6,
                    i == 0 ? PROCESS_CPU_NANOS[0] / 1e6 : (PROCESS_CPU_NANOS[i] - PROCESS_CPU_NANOS[i - 1]) / 1e6);
            previous = MICROS[i];
        }
        long marks = 0;
        for (int i = 0; i < count; i++) {
            marks += THREAD_CPU_AFTER_NANOS[i] - THREAD_CPU_NANOS[i];
        }
        err.printf("  (the marks' own reads: %.1f ms of the marking threads' CPU, not in the thread column)%n", marks / 1e6);
    }

    /** The CPU time of mark {@code i}'s thread when its previous mark was done (0 for its first). */
    private static long previousOfThread(int i) {
        for (int j = i - 1; j >= 0; j--) {
            if (THREAD_IDS[j] == THREAD_IDS[i]) {
                return THREAD_CPU_AFTER_NANOS[j];
            }
        }
        return 0;
    }

    /**
     * This thread's CPU time, to the nanosecond ({@code CLOCK_THREAD_CPUTIME_ID}): its schedstat file
     * is brought up to date only at the scheduler's ticks and switches, a few ms late for a running
     * thread, which put most phases' time into their neighbours'. Until the first mark has loaded
     * its classes (in the part a mark leaves out), the schedstat file's figure.
     */
    private static long threadCpuNanos() {
        return threads != null ? threads.getCurrentThreadCpuTime() : cpuNanos("/proc/thread-self/schedstat");
    }

    /**
     * The first field of a schedstat file: nanoseconds the task ran on a CPU (0 if unreadable). Read
     * as bytes: the marks run interpreted, and what they cost is what the table leaves out.
     */
    static long cpuNanos(String schedstat) {
        byte[] text = new byte[64];
        int n;
        try (FileInputStream in = new FileInputStream(schedstat)) {
            n = in.read(text);
        } catch (IOException e) {
            return 0;
        }
        long nanos = 0;
        for (int i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++) {
            nanos = nanos * 10 + (text[i] - '0');
        }
        return nanos;
    }

    /** CPU time of every thread of this process so far (threads that ended are not counted). */
    private static long processCpuNanos() {
        String[] tasks = new File("/proc/self/task").list();
        long sum = 0;
        for (String t : tasks == null ? new String[0] : tasks) {
            sum += cpuNanos("/proc/self/task/" + t + "/schedstat");
        }
        return sum;
    }

    /** {@code $EPOCHREALTIME} ("1733070000.123456") in microseconds, or {@code fallback}. */
    static long launchMicros(String epochRealtime, long fallback) {
        if (epochRealtime == null || !epochRealtime.matches("\\d+[.,]\\d{6}")) {
            return fallback;
        }
        return Long.parseLong(epochRealtime.replace(".", "").replace(",", ""));
    }
}
