package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.gdb.GdbEndpoint;
import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.monitor.MonitorServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many create/run/close cycles of a spinning guest while clients misbehave (a debugger that sends
 * and never reads, a monitor client that sends garbage, both cut off when the machine closes):
 * no growth in descriptors, threads or heap.
 */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // counts descriptors, threads and heap
class SoakTest {

    private static final int CYCLES = 40;

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static long threads() {
        return Thread.getAllStackTraces().size();
    }

    private static long usedHeap() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    private static void cycle(Path dir, int n, Random random) throws Exception {
        Path sock = dir.resolve("m" + n + ".sock");
        MachineConfig config = MachineConfig.builder().firmware(BiosRom.bundled("spin")).serial(SerialBackend.none())
                .gdb(new GdbEndpoint.Tcp("127.0.0.1", 0)).build();
        try (Machine m = Machine.create(config)) {
            m.start();
            Closeable monitor = MonitorServer.listenUnix(new Monitor(m), sock);
            try (Socket gdb = new Socket(); SocketChannel mon = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                gdb.connect(new InetSocketAddress("127.0.0.1", m.gdbPort().orElseThrow()));
                OutputStream out = gdb.getOutputStream();
                out.write("$g#67".repeat(2000).getBytes(StandardCharsets.US_ASCII)); // and never read
                out.flush();
                mon.connect(UnixDomainSocketAddress.of(sock));
                byte[] junk = new byte[16 * 1024];
                random.nextBytes(junk);
                mon.write(ByteBuffer.wrap(junk));
                mon.write(ByteBuffer.wrap("\ninfo cpus\ninfo exits\n".getBytes(StandardCharsets.UTF_8)));
                m.stop(RunResult.of(RunResult.Reason.QUIT, 0, "soak"));
                RunResult r = m.run(Duration.ofSeconds(60));
                assertEquals(RunResult.Reason.QUIT, r.reason(), r.message());
            } finally {
                monitor.close();
            }
        }
    }

    @Test
    void createRunCloseWhileClientsMisbehaveGrowsNothing(@TempDir Path dir) throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < 3; i++) {
            cycle(dir, -1 - i, random); // warm up the JVM's own descriptors, threads and classes
        }
        Thread.sleep(500);
        VcpuThreadsTest.awaitReleased();
        long fds = openFds();
        long threads = threads();
        long heap = usedHeap();
        for (int i = 0; i < CYCLES; i++) {
            cycle(dir, i, random);
        }
        VcpuThreadsTest.awaitReleased();
        // session threads end once their sockets close: give them a moment on a busy machine
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((openFds() > fds || threads() > threads) && System.nanoTime() < deadline) { // fewer is fine: JUnit's own may end
            Thread.sleep(50);
        }
        long heapGrowth = usedHeap() - heap;
        System.out.printf("soak: %d cycles, fds %d -> %d, threads %d -> %d, heap %+d KiB%n", CYCLES, fds, openFds(), threads,
                threads(), heapGrowth >> 10);
        assertTrue(openFds() <= fds, "descriptors: " + fds + " -> " + openFds());
        assertTrue(threads() <= threads, "threads: " + threads + " -> " + threads());
        assertTrue(heapGrowth < 16L << 20, "heap grew by " + (heapGrowth >> 10) + " KiB");
    }
}
