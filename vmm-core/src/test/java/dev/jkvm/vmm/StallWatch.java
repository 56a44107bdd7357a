package dev.jkvm.vmm;

import dev.jkvm.vmm.monitor.StallDump;
import java.time.Duration;
import java.util.Optional;

/**
 * Watches a started machine's serial output for a stall: no new output for {@code quiet} while the
 * machine runs. The first stall is dumped once ({@link StallDump}: threads, exits, registers, MP
 * state, LAPIC) so that a test can report it as a stall with the vCPUs' state, not as a timeout.
 * The dump asks every vCPU on its thread, which kicks it out of KVM_RUN once: output that resumes
 * right after it is said too (a vCPU that a kick wakes was missing one).
 */
final class StallWatch {

    /** A stall: how long the guest had been silent, its last line, the dump, and whether output resumed after it. */
    record Stall(long silentMillis, String lastLine, String dump, boolean resumedAfterDump) {
        String describe() {
            return String.format("stall: no serial output for %d ms while the vCPUs ran, after \"%s\"%s%n%s", silentMillis,
                    lastLine, resumedAfterDump ? " (output resumed after the dump kicked every vCPU)" : "", dump);
        }
    }

    private final Machine machine;
    private final Duration quiet;
    private int seenLength;
    private long lastChange = System.nanoTime();
    private long longestSilence;
    private long lastPoll = System.nanoTime();
    private long longestUnwatched;
    private Stall stall;

    StallWatch(Machine machine, Duration quiet) {
        this.machine = machine;
        this.quiet = quiet;
    }

    /** Looks at the output now; dumps the vCPUs the first time it has been silent for too long. */
    void poll() {
        int length = machine.serial().transcript().length();
        long now = System.nanoTime();
        longestUnwatched = Math.max(longestUnwatched, now - lastPoll);
        lastPoll = now;
        if (length != seenLength) {
            longestSilence = Math.max(longestSilence, now - lastChange);
            seenLength = length;
            lastChange = now;
            if (stall != null && !stall.resumedAfterDump()) {
                stall = new Stall(stall.silentMillis(), stall.lastLine(), stall.dump(), true);
            }
            return;
        }
        longestSilence = Math.max(longestSilence, now - lastChange);
        // Before the first output a slow start (a starved nested VM loading a 60 MB kernel) is not
        // yet a stall: three times the quiet time then.
        long limit = seenLength == 0 ? 3 * quiet.toNanos() : quiet.toNanos();
        if (stall == null && !machine.ended() && now - lastChange >= limit) {
            String dump = StallDump.of(machine, Duration.ofSeconds(1));
            stall = new Stall((now - lastChange) / 1_000_000, lastLine(), dump, false); // output during the dump counts as resumed
        }
    }

    /** The stall seen, if any. */
    Optional<Stall> stall() {
        return Optional.ofNullable(stall);
    }

    /** The longest time without output so far, in milliseconds. */
    long longestSilenceMillis() {
        return longestSilence / 1_000_000;
    }

    /**
     * The longest time between two looks, in milliseconds: a silence longer than the quiet time that
     * was no stall fell between two looks, the watcher itself not scheduled (the JVM or the nested
     * VM stood still, not the guest alone).
     */
    long longestUnwatchedMillis() {
        return longestUnwatched / 1_000_000;
    }

    private String lastLine() {
        return machine.serial().transcript().lines().reduce((a, b) -> b).orElse("").strip();
    }
}
