package dev.jkvm.bench;

import dev.jkvm.bench.jmh.ExitBenchmark;
import dev.jkvm.bench.jmh.LifecycleBenchmark;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH benchmarks ({@code dev.jkvm.bench.jmh}) in a forked JVM with {@code -prof gc} and
 * returns each one's score and {@code gc.alloc.rate.norm}.
 *
 * <pre>{@code
 * List<JmhRun.Score> scores = JmhRun.run(false);
 * }</pre>
 */
public final class JmhRun {

    private JmhRun() {
    }

    /**
     * One benchmark's result.
     *
     * @param name the benchmark and its parameters
     * @param score the primary score
     * @param unit its unit (us/op: per exit for ExitBenchmark, per VM for LifecycleBenchmark)
     * @param allocPerOp {@code gc.alloc.rate.norm}, bytes per op; NaN when missing
     */
    public record Score(String name, double score, String unit, double allocPerOp) {
    }

    /** Quick: port-out and the lifecycle only, 1 warm-up and 2 measured iterations of 1 s; else all, 2 + 4 of 2 s. */
    public static List<Score> run(boolean quick) throws RunnerException {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(ExitBenchmark.class.getName() + "\\.")
                .include(LifecycleBenchmark.class.getName() + "\\.")
                .addProfiler(GCProfiler.class)
                .forks(1)
                .jvmArgsAppend("--enable-native-access=ALL-UNNAMED")
                .shouldFailOnError(true);
        if (quick) {
            o.param("guestCase", "1").warmupIterations(1).measurementIterations(2)
                    .warmupTime(TimeValue.seconds(1)).measurementTime(TimeValue.seconds(1));
        } else {
            o.warmupIterations(2).measurementIterations(4)
                    .warmupTime(TimeValue.seconds(2)).measurementTime(TimeValue.seconds(2));
        }
        Collection<RunResult> results = new Runner(o.build()).run();
        List<Score> scores = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark().replaceFirst("^.*\\.jmh\\.", "");
            for (String p : r.getParams().getParamsKeys()) {
                name += " " + p + "=" + r.getParams().getParam(p);
            }
            Result<?> primary = r.getPrimaryResult();
            Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
            scores.add(new Score(name, primary.getScore(), primary.getScoreUnit(), alloc == null ? Double.NaN : alloc.getScore()));
        }
        return scores;
    }
}
