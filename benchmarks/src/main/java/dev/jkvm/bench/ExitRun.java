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
 * @param outsideNanos time the vCPU thread spent outside KVM_RUN (jkvm's own accounting: the
 *     handling of every exit and the loop around it), or -1 where not measured (the C baseline)
 */
public record ExitRun(int iterations, long cycles, long wallNanos, long exits, long outsideNanos) {

    /** A run whose VMM did not account its time outside KVM_RUN. */
    public ExitRun(int iterations, long cycles, long wallNanos, long exits) {
        this(iterations, cycles, wallNanos, exits, -1);
    }

    /** Nanoseconds per exit outside KVM_RUN; NaN when not measured. */
    public double outsideNanosPerExit() {
        return outsideNanos < 0 || exits <= 0 ? Double.NaN : (double) outsideNanos / exits;
    }

    public double cyclesPerIteration() {
        return (double) cycles / iterations;
    }

    /** Microseconds per iteration at a TSC of {@code tscKhz}. */
    public double microsPerIteration(long tscKhz) {
        return cyclesPerIteration() / tscKhz * 1000.0;
    }
}
