package dev.jkvm.bench.jmh;

import dev.jkvm.bench.BenchGuest;
import dev.jkvm.bench.JkvmLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * JMH: one VM's life on jkvm (Machine.create with 2 MiB and one vCPU, kernel-irqchip=off; run to
 * the guest's HLT; close). With {@code -prof gc}: the bytes one VM costs the Java heap.
 *
 * <pre>
 * java -cp ... org.openjdk.jmh.Main LifecycleBenchmark -prof gc -jvmArgsAppend --enable-native-access=ALL-UNNAMED
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LifecycleBenchmark {

    private Path rom;

    @Setup
    public void extractRom() throws java.io.IOException {
        rom = BenchGuest.extract("bench-exits", Files.createTempDirectory("jkvm-jmh"));
    }

    @TearDown
    public void deleteRom() throws java.io.IOException {
        Files.deleteIfExists(rom);
        Files.deleteIfExists(rom.getParent());
    }

    @Benchmark
    public double createRunClose() {
        return JkvmLifecycle.vmNanos(rom, 1);
    }
}
