package dev.jkvm.bench.jmh;

import dev.jkvm.bench.ExitRun;
import dev.jkvm.bench.JkvmExits;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * JMH: one exit to jkvm and back, measured over a whole machine run of {@link #EXITS} exits
 * (bench-exits.rom on a {@code Machine}, kernel-irqchip=off, 2 MiB), so the score is per exit and
 * {@code -prof gc}'s {@code gc.alloc.rate.norm} is the bytes allocated per exit with the machine's
 * setup and teardown amortised over 10^5 exits.
 *
 * <pre>
 * java -cp "$(cat benchmarks/target/classpath.txt):benchmarks/target/classes" org.openjdk.jmh.Main \
 *     ExitBenchmark -prof gc -jvmArgsAppend --enable-native-access=ALL-UNNAMED
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ExitBenchmark extends BenchRomState {

    /** Exits per machine run: enough that creating and closing the machine fades. */
    public static final int EXITS = 100_000;

    /** The bench-exits case: 1 port out, 2 port in, 3 MMIO write, 4 MMIO read. */
    @Param({"1", "2", "3", "4"})
    public int guestCase;

    @Benchmark
    @OperationsPerInvocation(EXITS)
    public ExitRun machineRun() {
        return JkvmExits.run(rom, guestCase, EXITS, false);
    }
}
