package dev.jkvm.bench.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one benchmark run found: where it ran, the rows of the table, the overcommit series
 * and free-form notes (e.g. the vCPU thread's allocation details).
 *
 * <pre>{@code
 * Report r = new Report(host, rows, series, "work units/s", notes);
 * Files.writeString(dir.resolve("results.json"), Json.write(r));
 * }</pre>
 *
 * @param host where and when it ran (host name, kernel, KVM module, date, ...), in display order
 * @param rows the table
 * @param overcommit the overcommit lines (empty when not run)
 * @param overcommitUnit what the overcommit y values are in
 * @param notes remarks, one per line
 */
public record Report(Map<String, String> host, List<Row> rows, List<Series> overcommit, String overcommitUnit,
                     List<String> notes) {

    public Report {
        host = Collections.unmodifiableMap(new LinkedHashMap<>(host));
        rows = List.copyOf(rows);
        overcommit = List.copyOf(overcommit);
        notes = List.copyOf(notes);
    }

    /**
     * The control rows (the empty loop and the exits KVM handles itself) involve no VMM code at
     * all, so how far their ratio strays from 1 is this run's noise floor; the exit ratios can be
     * read no finer than that.
     */
    public static Optional<String> noiseFloor(List<Row> rows) {
        double worst = -1;
        String which = "";
        for (Row r : rows) {
            boolean control = r.group().equals("in-kernel") || r.name().startsWith("empty loop");
            double d = Math.abs(r.ratio() - 1);
            if (control && !Double.isNaN(d) && d > worst) {
                worst = d;
                which = r.name();
            }
        }
        if (worst < 0) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "noise floor of this run: the control rows (no VMM code involved)"
                + " differ by up to %.1f%% between the two sides (%s); read the exit ratios no finer than that", worst * 100, which));
    }
}
