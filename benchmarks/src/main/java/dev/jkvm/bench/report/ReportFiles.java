package dev.jkvm.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The files a run leaves in its output directory: {@code results.json}, {@code ratios.svg} and,
 * when the overcommit group ran, {@code overcommit.svg}.
 *
 * <pre>{@code
 * ReportFiles.write(report, Path.of("benchmarks/target/bench"), 5, System.out::println);
 * }</pre>
 */
public final class ReportFiles {

    private ReportFiles() {
    }

    /**
     * Writes the files into {@code out} (created if missing) and tells {@code log} what it wrote.
     *
     * @param reps the repetitions each median was taken over, for the chart's title
     */
    public static void write(Report report, Path out, int reps, Consumer<String> log) throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("results.json"), Json.write(report));
        Files.writeString(out.resolve("ratios.svg"), Svg.ratioBars("jkvm / baseline, median of " + reps
                + " alternating repetitions (" + report.host().get("date") + ")", report.rows()));
        log.accept("");
        log.accept("wrote " + out.resolve("results.json") + ", " + out.resolve("ratios.svg"));
        if (!report.overcommit().isEmpty()) {
            Files.writeString(out.resolve("overcommit.svg"), Svg.lines("Overcommit: spinlock workload on 2 host CPUs",
                    "vCPUs (k)", "lock rounds per second, all vCPUs", report.overcommit()));
            log.accept("wrote " + out.resolve("overcommit.svg"));
        }
    }
}
