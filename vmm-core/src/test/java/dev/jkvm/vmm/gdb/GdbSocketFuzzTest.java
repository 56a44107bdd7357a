package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Debugger clients that misbehave, against the stub over a real socket (fake vCPUs, no KVM): one
 * that sends {@code $g#67} and never reads, garbage, oversize packets, a disconnect in the middle
 * of a packet, a second connection. After each, the stub still serves a well-behaved debugger and
 * closes promptly.
 */
class GdbSocketFuzzTest {

    /** Generous bounds for "does not hang" on a noisy machine. */
    private static final Duration NO_HANG = Duration.ofSeconds(60);

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final FakeTarget target = new FakeTarget(1);
    private GdbStub stub;
    private GdbServer server;
    private FakeVcpus vcpus;

    private void boot() {
        byte[] code = new byte[17];
        Arrays.fill(code, (byte) 0x90);
        code[16] = (byte) 0xf4;
        target.load(0x1000, code);
        stub = new GdbStub(target, false, log::add);
        server = GdbServer.start(new GdbEndpoint.Tcp("", 0), stub, log::add);
        vcpus = new FakeVcpus(target, stub).start();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (vcpus != null) {
            vcpus.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private Socket raw() throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", server.port()));
        return s;
    }

    /** The stub still answers a debugger that behaves. */
    private void aGoodDebuggerIsServed() throws Exception {
        assertTimeoutPreemptively(NO_HANG, () -> {
            while (true) {
                while (stub.attached()) {
                    Thread.sleep(5); // the last client's session is still leaving
                }
                try (GdbTestClient gdb = new GdbTestClient(server.port())) {
                    assertEquals("T05thread:01;", gdb.exchange("?"));
                    assertEquals(1200, gdb.exchange("g").length());
                    gdb.send("D");
                    assertEquals("OK", gdb.receive());
                    return;
                } catch (IOException e) {
                    // refused: a fuzzing connection still in the backlog was accepted first
                }
            }
        });
    }

    @Test
    void aClientThatSendsGAndNeverReadsIsPushedBackNotQueued() throws Exception {
        boot();
        byte[] packets = "$g#67".repeat(20_000).getBytes(StandardCharsets.US_ASCII); // 100 KB a write
        AtomicLong sent = new AtomicLong();
        Socket s = raw();
        Thread writer = Thread.ofPlatform().daemon().start(() -> {
            try {
                OutputStream out = s.getOutputStream();
                for (int i = 0; i < 2000; i++) { // 200 MB, far more than any socket buffers
                    out.write(packets);
                    sent.addAndGet(packets.length);
                }
            } catch (IOException e) {
                // the stub closed the connection at the end
            }
        });
        long maxQueued = 0;
        long before;
        do { // until the writer is blocked: TCP pushes back once the stub stops reading
            before = sent.get();
            Thread.sleep(500);
            maxQueued = Math.max(maxQueued, stub.inputs().size());
        } while (sent.get() != before);
        for (int i = 0; i < 20; i++) {
            Thread.sleep(50);
            maxQueued = Math.max(maxQueued, stub.inputs().size());
        }
        assertTrue(sent.get() < 200_000_000L, "the writer was never pushed back: " + sent.get());
        assertTrue(maxQueued <= GdbSession.MAX_QUEUED_FRAMES + 2, "queued " + maxQueued + " inputs");
        System.out.printf("gdb never-reading client: %d bytes accepted before TCP pushed back, at most %d inputs queued%n",
                sent.get(), maxQueued);
        long t0 = System.nanoTime();
        assertTimeoutPreemptively(NO_HANG, () -> server.close());
        System.out.printf("gdb never-reading client: server closed in %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        s.close();
        writer.join();
        server = null;
    }

    @Test
    void garbageOversizePacketsAndHalfPacketsLeaveTheStubServing() throws Exception {
        boot();
        Random random = new Random(67);
        for (int round = 0; round < 20; round++) {
            assertTimeoutPreemptively(NO_HANG, () -> {
                while (stub.attached()) {
                    Thread.sleep(5);
                }
            });
            try (Socket s = raw()) {
                OutputStream out = s.getOutputStream();
                byte[] junk = new byte[1 + random.nextInt(64 * 1024)];
                random.nextBytes(junk);
                out.write(junk);
                switch (round % 4) {
                    case 0 -> out.write(("$" + "m".repeat(3 * CommandHandler.PACKET_SIZE) + "#00").getBytes(StandardCharsets.US_ASCII));
                    case 1 -> out.write("$qSupported:multiprocess+;swb".getBytes(StandardCharsets.US_ASCII)); // cut mid-packet
                    case 2 -> out.write("$m0,ffffffff#00$M0,10:zz#00$X0,4:\u00ff#00$p999999#00".getBytes(StandardCharsets.ISO_8859_1));
                    default -> out.write("$g#6".getBytes(StandardCharsets.US_ASCII)); // checksum cut
                }
                out.flush();
            } catch (IOException e) {
                // the stub may hang up on what it got (a random detach or kill packet): fine
            }
        }
        aGoodDebuggerIsServed();
    }

    @Test
    void aSecondConnectionIsRefusedAndTheFirstGoesOn() throws Exception {
        boot();
        try (GdbTestClient first = new GdbTestClient(server.port())) {
            assertEquals("T05thread:01;", first.exchange("?"));
            try (Socket second = raw()) {
                assertEquals(-1, assertTimeoutPreemptively(NO_HANG, () -> second.getInputStream().read()), "refused: closed");
            }
            assertEquals(1200, first.exchange("g").length());
        }
        aGoodDebuggerIsServed();
        assertTrue(log.stream().anyMatch(l -> l.contains("a debugger is already attached")), log.toString());
    }
}
