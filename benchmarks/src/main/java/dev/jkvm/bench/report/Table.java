package dev.jkvm.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report as a plain-text table, one row per case, columns padded to their widest cell.
 *
 * <pre>{@code
 * System.out.print(Table.render(rows));
 * }</pre>
 */
public final class Table {

    static final List<String> HEADER =
            List.of("group", "case", "unit", "jkvm", "baseline", "jkvm/base", "target", "verdict", "jkvm alloc");

    private Table() {
    }

    /** The cells of one row, in {@link #HEADER} order. */
    static List<String> cells(Row r) {
        String base = r.baseline().present() ? Format.number(r.baseline().median()) + " " + r.baselineName() : "-";
        return List.of(r.group(), r.name(), r.unit(), Format.number(r.jkvm().median()), base,
                Format.ratio(r.ratio()), r.target().describe(), r.verdict(), r.alloc());
    }

    /** The table, header and rule first, lines ending in {@code \n}. */
    public static String render(List<Row> rows) {
        List<List<String>> lines = new ArrayList<>();
        lines.add(HEADER);
        for (Row r : rows) {
            lines.add(cells(r));
        }
        int[] width = new int[HEADER.size()];
        for (List<String> line : lines) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], line.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < lines.size(); n++) {
            appendLine(sb, lines.get(n), width);
            if (n == 0) {
                List<String> rule = new ArrayList<>();
                for (int w : width) {
                    rule.add("-".repeat(w));
                }
                appendLine(sb, rule, width);
            }
        }
        return sb.toString();
    }

    /** The overcommit series as a table: one line per series, one column per k. */
    public static String overcommit(List<Series> series) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-28s", "overcommit (lock rounds/s)"));
        List<Series.Point> first = series.get(0).points();
        for (Series.Point p : first) {
            sb.append(String.format(Locale.ROOT, "%12s", "k=" + (int) p.x()));
        }
        sb.append('\n');
        for (Series s : series) {
            sb.append(String.format(Locale.ROOT, "%-28s", s.name()));
            for (Series.Point p : s.points()) {
                sb.append(String.format(Locale.ROOT, "%12s", Format.number(p.y())));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static void appendLine(StringBuilder sb, List<String> cells, int[] width) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            boolean numeric = i >= 3 && i <= 5; // values right-aligned, words left-aligned
            String pad = " ".repeat(width[i] - c.length());
            line.append(numeric ? pad + c : c + pad);
            if (i < cells.size() - 1) {
                line.append("  ");
            }
        }
        sb.append(line.toString().stripTrailing()).append('\n');
    }
}
