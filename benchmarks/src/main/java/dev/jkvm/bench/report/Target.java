package dev.jkvm.bench.report;

import java.math.BigDecimal;
import java.util.Locale;

/**
 * What a row of the report should reach: jkvm/baseline at most some ratio, or jkvm's own value at
 * most some limit. Targets are reported, never asserted: a benchmark on a shared host is evidence,
 * not a test.
 *
 * <pre>{@code
 * Target t = Target.ratioAtMost(1.05);
 * t.verdict(1.08, 9.0);   // "MISS +2.9%"
 * }</pre>
 *
 * @param kind what is compared with the limit
 * @param limit the largest value that meets the target
 */
public record Target(Kind kind, double limit) {

    /** What the limit applies to. */
    public enum Kind { NONE, RATIO_AT_MOST, VALUE_AT_MOST }

    /** No target. */
    public static final Target NONE = new Target(Kind.NONE, Double.NaN);

    public static Target ratioAtMost(double limit) {
        return new Target(Kind.RATIO_AT_MOST, limit);
    }

    public static Target valueAtMost(double limit) {
        return new Target(Kind.VALUE_AT_MOST, limit);
    }

    /** The value the limit is compared with: the ratio or jkvm's value. */
    public double subject(double ratio, double jkvm) {
        return switch (kind) {
            case NONE -> Double.NaN;
            case RATIO_AT_MOST -> ratio;
            case VALUE_AT_MOST -> jkvm;
        };
    }

    /** How the target reads in the table: {@code <= 1.05x}, {@code <= 0.3}, or empty. */
    public String describe() {
        return switch (kind) {
            case NONE -> "";
            case RATIO_AT_MOST -> "<= " + plain(limit) + "x";
            case VALUE_AT_MOST -> "<= " + plain(limit);
        };
    }

    /** A limit as written: {@code 60}, {@code 1.05}, {@code 0.3}. */
    static String plain(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** {@code ok}, {@code MISS +x%} (by how much the limit was passed), {@code n/a} or empty. */
    public String verdict(double ratio, double jkvm) {
        if (kind == Kind.NONE) {
            return "";
        }
        double v = subject(ratio, jkvm);
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v <= limit) {
            return "ok";
        }
        if (limit == 0) {
            return "MISS";
        }
        return String.format(Locale.ROOT, "MISS +%.1f%%", (v / limit - 1) * 100);
    }
}
