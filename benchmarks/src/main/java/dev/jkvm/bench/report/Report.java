package dev.jkvm.bench.report;

import java.util.List;
import java.util.Map;

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
        host = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(host));
        rows = List.copyOf(rows);
        overcommit = List.copyOf(overcommit);
        notes = List.copyOf(notes);
    }
}
