package dev.jkvm.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report as JSON (no library: a few dozen lines suffice for strings, numbers and lists).
 * Missing numbers (NaN) are written as {@code null}.
 *
 * <pre>{@code
 * String json = Json.write(report);
 * }</pre>
 */
public final class Json {

    private Json() {
    }

    public static String write(Report report) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"host\": {");
        int i = 0;
        for (Map.Entry<String, String> e : report.host().entrySet()) {
            sb.append(i++ == 0 ? "\n    " : ",\n    ").append(string(e.getKey())).append(": ").append(string(e.getValue()));
        }
        sb.append("\n  },\n  \"rows\": [");
        i = 0;
        for (Row r : report.rows()) {
            sb.append(i++ == 0 ? "\n    " : ",\n    ").append(row(r));
        }
        sb.append("\n  ],\n  \"overcommit\": {\"unit\": ").append(string(report.overcommitUnit())).append(", \"series\": [");
        i = 0;
        for (Series s : report.overcommit()) {
            sb.append(i++ == 0 ? "\n    " : ",\n    ").append("{\"name\": ").append(string(s.name())).append(", \"points\": [");
            int j = 0;
            for (Series.Point p : s.points()) {
                sb.append(j++ == 0 ? "" : ", ").append("[").append(number(p.x())).append(", ").append(number(p.y())).append("]");
            }
            sb.append("]}");
        }
        sb.append("]},\n  \"notes\": [");
        i = 0;
        for (String n : report.notes()) {
            sb.append(i++ == 0 ? "\n    " : ",\n    ").append(string(n));
        }
        sb.append("\n  ]\n}\n");
        return sb.toString();
    }

    static String row(Row r) {
        return "{\"group\": " + string(r.group()) + ", \"case\": " + string(r.name()) + ", \"unit\": " + string(r.unit())
                + ", \"jkvm\": " + number(r.jkvm().median()) + ", \"baseline\": " + number(r.baseline().median())
                + ", \"baseline_name\": " + string(r.baselineName()) + ", \"ratio\": " + number(r.ratio())
                + ", \"target\": " + string(r.target().describe()) + ", \"verdict\": " + string(r.verdict())
                + ", \"jkvm_alloc\": " + string(r.alloc()) + ", \"note\": " + string(r.note())
                + ", \"jkvm_samples\": " + numbers(r.jkvm().values()) + ", \"baseline_samples\": "
                + numbers(r.baseline().values()) + "}";
    }

    static String numbers(List<Double> values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(number(values.get(i)));
        }
        return sb.append("]").toString();
    }

    /** A JSON number; {@code null} for NaN or infinity. */
    static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "null";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.6g", v).replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2").replaceFirst("\\.(e|$)", "$1");
    }

    /** A JSON string literal. */
    static String string(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
