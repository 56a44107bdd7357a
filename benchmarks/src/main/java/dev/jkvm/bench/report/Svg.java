package dev.jkvm.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The two charts of the report, written as SVG by hand (a few rectangles, lines and labels need no
 * library): the jkvm/baseline ratio of every row as horizontal bars, and the overcommit series as
 * lines.
 *
 * <pre>{@code
 * Files.writeString(dir.resolve("ratios.svg"), Svg.ratioBars("jkvm / baseline", rows));
 * Files.writeString(dir.resolve("overcommit.svg"), Svg.lines("Overcommit", "vCPUs", "work/s", series));
 * }</pre>
 */
public final class Svg {

    static final String MET = "#3a8a3a";
    static final String MISSED = "#c0392b";
    static final String NO_TARGET = "#7f8c8d";
    static final String[] LINE_COLOURS = {"#2c7fb8", "#d95f0e", "#31a354", "#756bb1"};

    private Svg() {
    }

    /**
     * One bar per row that has a ratio, its length the ratio, green when it meets its target, red
     * when it misses, grey without one; a dashed line at 1 (parity) and a tick at each row's target.
     */
    public static String ratioBars(String title, List<Row> rows) {
        List<Row> shown = rows.stream().filter(r -> !Double.isNaN(r.ratio())).toList();
        int labelWidth = 300;
        int plotWidth = 460;
        int barHeight = 18;
        int gap = 6;
        int top = 40;
        int height = top + shown.size() * (barHeight + gap) + 40;
        double max = 1.2;
        for (Row r : shown) {
            max = Math.max(max, r.ratio());
            if (r.target().kind() == Target.Kind.RATIO_AT_MOST) {
                max = Math.max(max, r.target().limit());
            }
        }
        max = Math.ceil(max * 4) / 4; // a round end of the scale
        double scale = plotWidth / max;
        StringBuilder sb = open(labelWidth + plotWidth + 80, height);
        text(sb, 10, 22, "start", 15, "bold", title);
        for (int i = 0; i < shown.size(); i++) {
            Row r = shown.get(i);
            int y = top + i * (barHeight + gap);
            double ratio = r.ratio();
            String verdict = r.verdict();
            String colour = verdict.startsWith("ok") ? MET : verdict.startsWith("MISS") ? MISSED : NO_TARGET;
            text(sb, labelWidth - 8, y + barHeight - 5, "end", 12, "normal", r.group() + ": " + r.name());
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
                    labelWidth, y, ratio * scale, barHeight, colour));
            text(sb, (int) (labelWidth + ratio * scale + 4), y + barHeight - 5, "start", 11, "normal", Format.ratio(ratio));
            if (r.target().kind() == Target.Kind.RATIO_AT_MOST) {
                double x = labelWidth + r.target().limit() * scale;
                sb.append(String.format(Locale.ROOT,
                        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" stroke-width=\"2\"/>%n",
                        x, y - 2, x, y + barHeight + 2));
            }
        }
        int axisY = top + shown.size() * (barHeight + gap) + 4;
        double one = labelWidth + scale;
        sb.append(String.format(Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\" stroke-dasharray=\"4,3\"/>%n",
                one, top - 4, one, axisY));
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                labelWidth, axisY, labelWidth + plotWidth, axisY));
        for (double t = 0; t <= max + 1e-9; t += max > 3 ? 1 : 0.25) {
            double x = labelWidth + t * scale;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>%n",
                    x, axisY, x, axisY + 4));
            text(sb, (int) x, axisY + 16, "middle", 10, "normal", Format.number(t));
        }
        text(sb, labelWidth, axisY + 32, "start", 11, "normal",
                "jkvm / baseline (lower is better; dashed: parity; black tick: target; green met, red missed)");
        return close(sb);
    }

    /** A line chart of {@code series}: x on a log2 scale (vCPU counts 1, 2, 4, ...), y from 0. */
    public static String lines(String title, String xLabel, String yLabel, List<Series> series) {
        int left = 90;
        int plotWidth = 520;
        int plotHeight = 300;
        int top = 50;
        int width = left + plotWidth + 40;
        int height = top + plotHeight + 90;
        List<Double> xs = new ArrayList<>();
        double maxY = 0;
        for (Series s : series) {
            for (Series.Point p : s.points()) {
                if (!xs.contains(p.x())) {
                    xs.add(p.x());
                }
                maxY = Math.max(maxY, p.y());
            }
        }
        xs.sort(Double::compare);
        double minLog = xs.isEmpty() ? 0 : log2(xs.get(0));
        double maxLog = xs.isEmpty() ? 1 : Math.max(log2(xs.get(xs.size() - 1)), minLog + 1);
        double yTop = niceCeiling(maxY);
        StringBuilder sb = open(width, height);
        text(sb, 10, 22, "start", 15, "bold", title);
        int bottom = top + plotHeight;
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                left, bottom, left + plotWidth, bottom));
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                left, top, left, bottom));
        for (int i = 0; i <= 4; i++) {
            double v = yTop * i / 4;
            double y = bottom - plotHeight * i / 4.0;
            sb.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", left, y, left + plotWidth, y));
            text(sb, left - 6, (int) y + 4, "end", 10, "normal", Format.number(v));
        }
        for (double x : xs) {
            double px = xPos(x, minLog, maxLog, left, plotWidth);
            text(sb, (int) px, bottom + 16, "middle", 10, "normal", x == Math.rint(x) ? Long.toString((long) x) : Format.number(x));
        }
        text(sb, left + plotWidth / 2, bottom + 34, "middle", 12, "normal", xLabel);
        sb.append(String.format(Locale.ROOT,
                "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\""
                        + " transform=\"rotate(-90 16 %d)\">%s</text>%n", top + plotHeight / 2, top + plotHeight / 2, escape(yLabel)));
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String colour = LINE_COLOURS[i % LINE_COLOURS.length];
            StringBuilder pts = new StringBuilder();
            for (Series.Point p : s.points()) {
                double px = xPos(p.x(), minLog, maxLog, left, plotWidth);
                double py = bottom - (yTop == 0 ? 0 : p.y() / yTop * plotHeight);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n", px, py, colour));
            }
            sb.append(String.format(Locale.ROOT,
                    "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n", pts.toString().trim(), colour));
            int ly = bottom + 52 + i * 16;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    left, ly - 4, left + 24, ly - 4, colour));
            text(sb, left + 30, ly, "start", 11, "normal", s.name());
        }
        return close(sb);
    }

    private static double xPos(double x, double minLog, double maxLog, int left, int plotWidth) {
        return left + 20 + (log2(x) - minLog) / (maxLog - minLog) * (plotWidth - 40);
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }

    /** 1, 2 or 5 times a power of ten, at or above v (for the y axis's end). */
    static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static StringBuilder open(int width, int height) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n",
                width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
        return sb;
    }

    private static String close(StringBuilder sb) {
        return sb.append("</svg>\n").toString();
    }

    private static void text(StringBuilder sb, int x, int y, String anchor, int size, String weight, String s) {
        sb.append(String.format(Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" font-family=\"sans-serif\" font-size=\"%d\" font-weight=\"%s\">%s</text>%n",
                x, y, anchor, size, weight, escape(s)));
    }

    /** Escapes the characters XML text cannot hold as they are. */
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
