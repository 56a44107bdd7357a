package dev.jkvm.bench.report;

import java.util.Arrays;
import java.util.List;

/**
 * The repeated measurements of one quantity, in the order they were taken; a benchmark reports
 * their median, which one noisy repetition on a shared host cannot move.
 *
 * <pre>{@code
 * Samples s = Samples.of(3.0, 1.0, 2.0);
 * s.median();   // 2.0
 * }</pre>
 */
public record Samples(List<Double> values) {

    /** No measurement (a side that was not run, e.g. QEMU when it is not installed). */
    public static final Samples NONE = new Samples(List.of());

    public Samples {
        values = List.copyOf(values);
    }

    public static Samples of(double... values) {
        return new Samples(Arrays.stream(values).boxed().toList());
    }

    /** Whether there is at least one value. */
    public boolean present() {
        return !values.isEmpty();
    }

    /** The median (the mean of the middle two for an even count); NaN when empty. */
    public double median() {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** The smallest value; NaN when empty. */
    public double min() {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    /** The largest value; NaN when empty. */
    public double max() {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** The median of {@code values} (not modified); NaN when empty. */
    public static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /** {@code a / b}, or NaN when either is missing or b is 0. */
    public static double ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b == 0) {
            return Double.NaN;
        }
        return a / b;
    }
}
