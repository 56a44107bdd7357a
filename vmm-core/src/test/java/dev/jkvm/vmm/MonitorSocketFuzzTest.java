package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.monitor.MonitorServer;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Monitor clients that misbehave, over the Unix socket of a machine whose guest spins: random and
 * oversize input, a client that sends commands and never reads, disconnects in the middle of a
 * line, more connections than sessions. The guest keeps running, the heap stays bounded, and a
 * client that behaves still gets answers and can quit.
 */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // measures the heap
class MonitorSocketFuzzTest {

    private static final Duration NO_HANG = Duration.ofSeconds(120);

    private static SocketChannel connect(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(path));
        return ch;
    }

    private static void write(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Writes {@code bytes} from another thread, so that the caller can read the answers meanwhile. */
    private static Thread writeInBackground(SocketChannel ch, byte[]... chunks) {
        return Thread.ofPlatform().daemon().start(() -> {
            try {
                for (byte[] c : chunks) {
                    write(ch, c);
                }
            } catch (IOException e) {
                // the test closed the connection
            }
        });
    }

    /** Reads until {@code marker} has been seen (the session's answer), or the peer closes. */
    private static String readUntil(SocketChannel ch, String marker) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer b = ByteBuffer.allocate(8192);
        while (sb.indexOf(marker, Math.max(0, sb.length() - 8192 - marker.length())) < 0) {
            b.clear();
            if (ch.read(b) < 0) {
                break;
            }
            sb.append(new String(b.array(), 0, b.position(), StandardCharsets.ISO_8859_1));
        }
        return sb.toString();
    }

    /**
     * Random lines of 0-6000 random bytes (some over the 4096 cap), each starting with a byte no
     * command name starts with: random input, but none that quits or stops the guest by chance.
     */
    private static byte[] junk(Random random, int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        int next = 0;
        for (int i = 0; i < size; i++) {
            if (b[i] == '\n') {
                b[i] = 0;
            }
            if (i == next) {
                b[i] = (byte) (0x80 | b[i]);
                if (i > 0) {
                    b[i - 1] = '\n';
                }
                next = i + 1 + random.nextInt(6000);
            }
        }
        return b;
    }

    private static long usedHeap() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void misbehavingClientsLeaveTheGuestRunningAndTheMonitorServing(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("mon.sock");
        try (Machine m = DevicesGuestTest.machine("-bios", "spin")) {
            m.start();
            assertTrue(m.serial().awaitLine(Pattern.compile("spinning"), Duration.ofSeconds(60)).isPresent());
            Closeable server = MonitorServer.listenUnix(new Monitor(m), sock);
            long heapBefore = usedHeap();
            Random random = new Random(7);
            assertTimeoutPreemptively(NO_HANG, () -> {
                // random bytes, with and without newlines, and a 64 MiB line
                for (int round = 0; round < 8; round++) {
                    try (SocketChannel ch = connect(sock)) {
                        byte[] junk = junk(random, 256 * 1024);
                        Thread w = writeInBackground(ch, junk, "\ninfo status\n".getBytes(StandardCharsets.UTF_8));
                        String text = readUntil(ch, "VM status: running");
                        assertTrue(text.contains("VM status: running"), text.substring(Math.max(0, text.length() - 2000)));
                        w.join();
                    }
                }
                try (SocketChannel ch = connect(sock)) {
                    byte[] a = new byte[1 << 20];
                    java.util.Arrays.fill(a, (byte) 'a');
                    byte[][] chunks = new byte[65][];
                    java.util.Arrays.fill(chunks, a);
                    chunks[64] = "\ninfo status\n".getBytes(StandardCharsets.UTF_8);
                    Thread w = writeInBackground(ch, chunks);
                    String text = readUntil(ch, "VM status: running");
                    w.join();
                    assertTrue(text.contains("Error: command line too long (more than 4096 characters)"), text);
                }
                // cut in the middle of a line, then gone
                for (int i = 0; i < 20; i++) {
                    try (SocketChannel ch = connect(sock)) {
                        write(ch, "info regis".getBytes(StandardCharsets.UTF_8));
                    } catch (IOException refused) {
                        // the server may still count the clients just gone against its sessions, and so
                        // refuse this one and close it at once (a broken pipe here): what it serves is checked below
                    }
                }
            });
            // a client that sends and never reads: its session blocks, nobody else does
            SocketChannel deaf = connect(sock);
            Thread flood = Thread.ofPlatform().daemon().start(() -> {
                try {
                    byte[] cmd = "info registers -a\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
                    for (int i = 0; i < 1000; i++) {
                        write(deaf, cmd);
                    }
                } catch (IOException e) {
                    // closed at the end
                }
            });
            Thread.sleep(1000);
            // more connections than sessions: the extra ones are told so and closed
            List<SocketChannel> many = new ArrayList<>();
            for (int i = 0; i < MonitorServer.MAX_SESSIONS + 3; i++) {
                many.add(connect(sock));
            }
            String refused = assertTimeoutPreemptively(NO_HANG, () -> readUntil(many.getLast(), "sessions\n"));
            assertTrue(refused.contains("Error: the monitor already serves " + MonitorServer.MAX_SESSIONS + " sessions"), refused);
            for (SocketChannel ch : many) {
                ch.close();
            }
            long heapGrowth = usedHeap() - heapBefore;
            System.out.printf("monitor fuzz: heap grew by %d KiB%n", heapGrowth >> 10);
            assertTrue(heapGrowth < 64L << 20, "heap grew by " + (heapGrowth >> 20) + " MiB");
            assertEquals("VM status: running\n", new Monitor(m).execute("info status"), "the guest runs on");

            // a good client still quits the guest, with the deaf one still connected
            assertTimeoutPreemptively(NO_HANG, () -> {
                SocketChannel good;
                while (true) { // the closed sessions may still be leaving
                    good = connect(sock);
                    if (readUntil(good, "(qemu) ").contains("(qemu) ")) {
                        break;
                    }
                    good.close();
                    Thread.sleep(50);
                }
                write(good, "quit\n".getBytes(StandardCharsets.UTF_8));
                long t0 = System.nanoTime();
                RunResult r = m.run(NO_HANG);
                System.out.printf("monitor fuzz: quit to run ended in %.1f ms%n", (System.nanoTime() - t0) / 1e6);
                assertEquals(RunResult.Reason.QUIT, r.reason(), r.message());
                good.close();
            });
            deaf.close();
            flood.join(NO_HANG.toMillis());
            server.close();
        }
    }
}
