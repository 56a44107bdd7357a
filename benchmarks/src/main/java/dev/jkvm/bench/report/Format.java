package dev.jkvm.bench.report;

import java.util.Locale;

/** Number formatting shared by the table, the JSON and the charts: locale-free, 3-4 significant digits. */
public final class Format {

    private Format() {
    }

    /** {@code 8.31}, {@code 123.4}, {@code 4567}, {@code 0.0123}, {@code 0.3}; {@code -} for NaN. */
    public static String number(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        String s = String.format(Locale.ROOT, "%.3g", v);
        return s.contains("e") ? s : s.replaceFirst("0+$", "").replaceFirst("\\.$", "");
    }

    /** A ratio as {@code 1.03x}; {@code -} for NaN. */
    public static String ratio(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2fx", v);
    }
}
