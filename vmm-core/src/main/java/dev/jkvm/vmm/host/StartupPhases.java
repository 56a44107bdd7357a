package dev.jkvm.vmm.host;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Timestamps of the start-up phases, printed with {@code JKVM_DEBUG=startup}: the
 * table in docs/benchmarks.md comes from it. The launcher hands its own start in
 * {@code JKVM_LAUNCH_US} (bash's {@code $EPOCHREALTIME}, no fork), so the JVM's own start-up shows as
 * the first phase. Off, a mark is one static boolean test.
 */
public final class StartupPhases {

    private static final boolean ON = enabled(System.getenv("JKVM_DEBUG"));
    private static final int MAX = 32;
    private static final String[] NAMES = new String[MAX];
    private static final long[] MICROS = new long[MAX];
    private static final long[] THREAD_CPU_NANOS = new long[MAX];
    private static final long[] PROCESS_CPU_NANOS = new long[MAX];
    private static final long[] THREAD_IDS = new long[MAX];
    private static int count;

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
            NAMES[count] = name;
            MICROS[count] = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
            THREAD_CPU_NANOS[count] = cpuNanos(Path.of("/proc/thread-self/schedstat"));
            THREAD_IDS[count] = Thread.currentThread().threadId();
            PROCESS_CPU_NANOS[count] = processCpuNanos();
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
    }

    /** The CPU time of mark {@code i}'s thread at its previous mark (0 for its first). */
    private static long previousOfThread(int i) {
        for (int j = i - 1; j >= 0; j--) {
            if (THREAD_IDS[j] == THREAD_IDS[i]) {
                return THREAD_CPU_NANOS[j];
            }
        }
        return 0;
    }

    /** The first field of a schedstat file: nanoseconds the task ran on a CPU (0 if unreadable). */
    private static long cpuNanos(Path schedstat) {
        try {
            String text = Files.readString(schedstat);
            return Long.parseLong(text.substring(0, text.indexOf(' ')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** CPU time of every thread of this process so far (threads that ended are not counted). */
    private static long processCpuNanos() {
        long sum = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                sum += cpuNanos(t.resolve("schedstat"));
            }
        } catch (IOException e) {
            return 0;
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
