package dev.jkvm.bench;

/**
 * One run of a bench-exits case: what the guest timed with {@code rdtsc} around its N iterations,
 * and what the host saw.
 *
 * <pre>{@code
 * ExitRun r = new ExitRun(100_000, 2_233_807_329L, 860_551_838L, 100_001);
 * r.cyclesPerIteration();               // 22338.07
 * r.microsPerIteration(2_596_122);      // 8.60
 * }</pre>
 *
 * @param iterations N
 * @param cycles TSC cycles the guest's loop took
 * @param wallNanos host time from entering the guest to the end of the run
 * @param exits exits that reached the VMM
 */
public record ExitRun(int iterations, long cycles, long wallNanos, long exits) {

    public double cyclesPerIteration() {
        return (double) cycles / iterations;
    }

    /** Microseconds per iteration at a TSC of {@code tscKhz}. */
    public double microsPerIteration(long tscKhz) {
        return cyclesPerIteration() / tscKhz * 1000.0;
    }
}
