package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A thousand guests, one after another, in one JVM: each is created, run to its end and closed,
 * and afterwards the process has the file descriptors, jkvm threads and (within the heap's and
 * the JIT's own growth) the resident memory it had before.
 */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // counts threads, descriptors, memory or time
class ManyMachinesTest {

    private static final MachineConfig TINY = MachineConfig.builder().firmware(Firmware.bundled("debug-exit"))
            .serial(SerialBackend.none()).irqchip(false).build();

    private static void cycles(int n) {
        for (int i = 0; i < n; i++) {
            try (Machine m = Machine.create(TINY)) {
                assertEquals(85, m.run(Duration.ofSeconds(30)).exitStatus());
            }
        }
    }

    @Test
    void aThousandCreateRunCloseCyclesLeaveNothingBehind() throws IOException {
        // Warm-up: JIT, class loading, and the heap and malloc arenas growing to their working size
        // (measured: RSS climbs for the first few hundred machines, then stays).
        cycles(1000);
        System.gc();
        long fds = VcpuThreadsTest.openFds();
        long threads = VcpuThreadsTest.threadCount();
        long rss = rssKib();
        long heap = committedHeapKib();
        long used = usedHeapKib();
        long start = System.nanoTime();
        cycles(1000);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.gc();
        // What the collector keeps committed is not a leak (it grew the heap by 55 MB in one run
        // of the whole suite): memory outside the heap, and the heap's live objects, are.
        long heapGrowth = committedHeapKib() - heap;
        long rssAfter = rssKib() - Math.max(0, heapGrowth);
        long usedAfter = usedHeapKib();
        System.out.printf("1000 machines in %.1f s (%.1f ms each): fds %d -> %d, jkvm threads %d -> %d, RSS outside"
                + " the heap's growth %d -> %d KiB, live heap %d -> %d KiB%n", seconds, seconds, fds,
                VcpuThreadsTest.openFds(), threads, VcpuThreadsTest.threadCount(), rss, rssAfter, used, usedAfter);
        assertEquals(fds, VcpuThreadsTest.openFds());
        assertEquals(threads, VcpuThreadsTest.threadCount());
        assertTrue(rssAfter - rss < 48 * 1024, "RSS outside the heap grew by " + (rssAfter - rss) + " KiB over 1000 machines");
        assertTrue(usedAfter - used < 16 * 1024, "live heap grew by " + (usedAfter - used) + " KiB over 1000 machines");
    }

    private static long committedHeapKib() {
        return Runtime.getRuntime().totalMemory() / 1024;
    }

    private static long usedHeapKib() {
        return (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1024;
    }

    private static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }
}
