package dev.jkvm.bench.jmh;

import dev.jkvm.bench.JkvmLifecycle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

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
public class LifecycleBenchmark extends BenchRomState {

    @Benchmark
    public double createRunClose() {
        return JkvmLifecycle.vmNanos(rom, 1);
    }
}
