package dev.jkvm.vmm.qmp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.QmpSpec;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import dev.jkvm.vmm.monitor.Monitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QMP against running guests, driven from Java as a tool drives QEMU: the guest sees what the
 * commands do (its own clock stops with {@code stop}, the power button reaches its ACPI code),
 * the events carry QEMU's causes, and hostile clients touch neither the guest nor each other.
 */
@RequiresKvm
class QmpGuestTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    static Machine machine(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-serial", "none"));
        return Machine.create(((Invocation.Run) CommandLine.parse(all.toArray(String[]::new))).config());
    }

    private QmpServer qmp(Machine m) throws Exception {
        return QmpServer.start(m, new Monitor(m), QmpSpec.unix(dir.resolve("qmp.sock")));
    }

    /** The next line that starts with what {@code regex} matches. */
    private static String awaitLine(Machine m, String regex) throws InterruptedException {
        return m.serial().awaitLine(Pattern.compile(regex.replaceFirst("^\\^", "") + ".*"), WAIT)
                .orElseThrow(() -> new AssertionError("no line matching " + regex + " in:\n" + m.serial().tail(20)));
    }

    private static Map<?, ?> data(Map<String, Object> event) {
        return (Map<?, ?>) event.get("data");
    }

    @Test
    void stopAndContAreSeenFromInsideAGuestThatCountsItsOwnTime() throws Exception {
        try (Machine m = machine("-kernel", "ticks", "-append", "beats=100000"); QmpServer server = qmp(m);
             QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            awaitLine(m, "^beat 2 ");
            assertEquals(Map.of(), c.execute("stop"));
            Map<String, Object> stop = c.awaitEvent("STOP");
            assertTrue(((Map<?, ?>) stop.get("timestamp")).get("microseconds") instanceof Long, stop.toString());
            assertEquals("paused", ((Map<?, ?>) c.execute("query-status")).get("status"));
            String before = m.serial().transcript();
            Thread.sleep(2500);
            assertEquals(before, m.serial().transcript(), "the guest went on counting while stopped");
            Matcher last = Pattern.compile("beat (\\d+) irq0=\\d+ rtc=(\\d+)\\r?\\n$").matcher(before);
            assertTrue(last.find(), before);
            int n = Integer.parseInt(last.group(1));
            assertEquals(Map.of(), c.execute("cont"));
            c.awaitEvent("RESUME");
            assertEquals(true, ((Map<?, ?>) c.execute("query-status")).get("running"));
            String next = awaitLine(m, "^beat " + (n + 1) + " ");
            Matcher after = Pattern.compile("rtc=(\\d+)").matcher(next);
            assertTrue(after.find(), next);
            int gap = Math.floorMod(Integer.parseInt(after.group(1)) - Integer.parseInt(last.group(2)), 60);
            assertTrue(gap >= 2, "the guest's RTC moved " + gap + " s across a 2.5 s stop: " + next);
            c.execute("quit");
            assertEquals(Map.of("guest", false, "reason", "host-qmp-quit"), data(c.awaitEvent("SHUTDOWN")));
            assertEquals(RunResult.Reason.QUIT, m.run(WAIT).reason());
        }
    }

    @Test
    void systemPowerdownReachesTheGuestAsTheAcpiPowerButtonAndEndsInShutdown() throws Exception {
        try (Machine m = machine("-kernel", "acpi", "-append", "power=button"); QmpServer server = qmp(m);
             QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            awaitLine(m, "^button armed sci=9 ");
            assertEquals(Map.of(), c.execute("system_powerdown"));
            c.awaitEvent("POWERDOWN");
            assertEquals(Map.of("guest", true, "reason", "guest-shutdown"), data(c.awaitEvent("SHUTDOWN")));
            RunResult r = m.run(WAIT);
            assertEquals(RunResult.Reason.POWER_OFF, r.reason(), r.serialTail(5));
            assertTrue(r.serial().contains("button pressed pm1_sts=0x100 scis=1"), r.serialTail(5));
        }
    }

    @Test
    void resetsWithTheirCausesAndACrashAsGuestPanicked() throws Exception {
        try (Machine m = machine("-bios", "spin"); QmpServer server = qmp(m); QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            awaitLine(m, "spinning");
            c.execute("system_reset");
            assertEquals(Map.of("guest", false, "reason", "host-qmp-system-reset"), data(c.awaitEvent("RESET")));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (m.serial().transcript().split("spinning", -1).length < 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, m.resets());
            assertTrue(m.serial().transcript().split("spinning", -1).length >= 3, "the guest did not start again");
            assertEquals(Map.of(), c.execute("system_reset"));
            c.awaitEvent("RESET");
            m.stop(RunResult.of(RunResult.Reason.SIGNAL, 0, "SIGTERM"));
            assertEquals(Map.of("guest", false, "reason", "host-signal"), data(c.awaitEvent("SHUTDOWN")));
        }
        // A triple fault resets the PC (the guest's reset); the same one right after ends the run: a panic.
        try (Machine m = machine("-bios", "triple-fault"); QmpServer server = qmp(m);
             QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            assertEquals(Map.of("guest", true, "reason", "guest-reset"), data(c.awaitEvent("RESET")));
            assertEquals(Map.of("action", "poweroff"), data(c.awaitEvent("GUEST_PANICKED")));
            assertEquals(Map.of("guest", true, "reason", "guest-panic"), data(c.awaitEvent("SHUTDOWN")));
            assertEquals(RunResult.Reason.TRIPLE_FAULT, m.run(WAIT).reason());
        }
        // With -no-reboot the guest's reset is its shutdown, as in QEMU.
        try (Machine m = machine("-bios", "triple-fault", "-no-reboot"); QmpServer server = qmp(m);
             QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            assertEquals(Map.of("guest", true, "reason", "guest-reset"), data(c.awaitEvent("SHUTDOWN")));
        }
    }

    @Test
    void startPausedIsPrelaunchUntilCont() throws Exception {
        try (Machine m = machine("-bios", "hello", "-S"); QmpServer server = qmp(m); QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            assertEquals(Map.of("status", "prelaunch", "singlestep", false, "running", false), c.execute("query-status"));
            Thread.sleep(300);
            assertEquals("", m.serial().transcript());
            c.execute("cont");
            c.awaitEvent("RESUME");
            assertEquals(Map.of("guest", true, "reason", "guest-shutdown"), data(c.awaitEvent("SHUTDOWN"))); // halted for good
            assertEquals("Hello from the guest\r\n", m.run(WAIT).serial());
        }
    }

    @Test
    void memsavePmemsaveInjectNmiAndTheHumanMonitor() throws Exception {
        try (Machine m = machine("-kernel", "ticks", "-append", "beats=100000", "-smp", "2"); QmpServer server = qmp(m);
             QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            m.start();
            awaitLine(m, "^beat 1 ");
            c.execute("stop");
            Path phys = dir.resolve("phys.bin");
            Path virt = dir.resolve("virt.bin");
            c.execute("pmemsave", "val", 0x100000L, "size", 10000L, "filename", phys.toString());
            c.execute("memsave", "val", 0x100000L, "size", 10000L, "filename", virt.toString(), "cpu-index", 1L);
            byte[] expected = m.readPhysical(0x100000L, 10000);
            assertArrayEquals(expected, Files.readAllBytes(phys));
            assertArrayEquals(expected, Files.readAllBytes(virt)); // the kernel identity-maps its memory
            assertEquals("Invalid addr 0x7fffffffffffffff/size 16 specified", error(c.request("memsave",
                    QmpCommands.map("val", Long.MAX_VALUE, "size", 16L, "filename", virt.toString()))));
            assertEquals("Parameter 'cpu-index' expects a CPU number", error(c.request("memsave",
                    QmpCommands.map("val", 0L, "size", 16L, "filename", virt.toString(), "cpu-index", 2L))));
            assertEquals("Could not open '/nonexistent/x': No such file or directory", error(c.request("pmemsave",
                    QmpCommands.map("val", 0L, "size", 16L, "filename", "/nonexistent/x"))));
            assertEquals("VM status: paused\r\n", c.execute("human-monitor-command", "command-line", "info status"));
            assertEquals("unknown command: 'nosuch'\r\n", c.execute("human-monitor-command", "command-line", "nosuch"));
            c.execute("cont");
            assertEquals(Map.of(), c.execute("inject-nmi"));
            // The test kernel takes no NMI: its handler reports vector 2 and fails the run, so it did arrive.
            // (It may arrive in the middle of a beat line: "beat 2 irq0=112 rfail exception ...", seen in the nested VM.)
            awaitLine(m, ".*fail exception vector=2 name=NMI");
            assertEquals(0x11, m.run(WAIT).debugExitValue());
        }
    }

    private static String error(Map<String, Object> reply) {
        Map<?, ?> e = (Map<?, ?>) reply.get("error");
        assertEquals("GenericError", e.get("class"), reply.toString());
        return (String) e.get("desc");
    }

    @Test
    void hostileClientsTouchNeitherTheGuestNorEachOther() throws Exception {
        Path sock = dir.resolve("qmp.sock");
        try (Machine m = machine("-kernel", "ticks", "-append", "beats=100000"); QmpServer server = qmp(m)) {
            m.start();
            awaitLine(m, "^beat 1 ");
            // A client that hangs up in the middle of a message frees the monitor for the next one.
            try (QmpClient half = QmpClient.unix(sock)) {
                half.sendRaw("{\"execute\": \"qmp_capa");
            }
            try (QmpClient first = QmpClient.negotiated(sock)) {
                // A second client while the first is connected: closed at once, without a greeting.
                try (java.nio.channels.SocketChannel second = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                    second.connect(java.net.UnixDomainSocketAddress.of(sock));
                    assertEquals(-1, second.read(java.nio.ByteBuffer.allocate(16)));
                }
                assertEquals("running", ((Map<?, ?>) first.execute("query-status")).get("status"));
                // Garbage, an oversize message and wrong types: error replies, and the session goes on.
                first.sendRaw("}{\"execute\": 12}\n[\"" + "x".repeat(QmpSession.MAX_REQUEST_BYTES) + "\"]\n");
                assertEquals("JSON parse error, stray '}'", error(first.nextReply()));
                assertEquals("QMP input member 'execute' must be a string", error(first.nextReply()));
                assertEquals("JSON message size limit (1048576 bytes) exceeded", error(first.nextReply()));
                assertEquals(Map.of(), first.execute("query-name"));
            }
            // A client that sends and never reads: its replies back up, its events are dropped, the
            // guest and the machine go on.
            try (QmpClient mute = QmpClient.negotiated(sock)) {
                StringBuilder flood = new StringBuilder();
                for (int i = 0; i < 400; i++) {
                    flood.append("{\"execute\": \"query-cpu-definitions\"}");
                }
                mute.sendRaw(flood.toString()); // read by the session; the replies wait in its bounded queue
                Thread.sleep(200);
                String beats = awaitLine(m, "^beat 3 ");
                long until = System.nanoTime() + WAIT.toNanos(); // the replies fill the queue at the host's pace
                while (server.droppedEvents() == 0 && System.nanoTime() < until) {
                    m.pause();
                    m.resume();
                }
                assertTrue(server.droppedEvents() > 0, "no event was dropped for the client that never reads");
                awaitLine(m, "^beat 5 ");
                assertTrue(beats.startsWith("beat 3"));
                m.stop(RunResult.of(RunResult.Reason.QUIT, 0, "test"));
                assertEquals(RunResult.Reason.QUIT, m.run(WAIT).reason());
            }
        }
    }

    @Test
    void migrateToAFileAndGoOnFromItInAnotherMachine() throws Exception {
        Path file = dir.resolve("guest.snap");
        String[] args = {"-kernel", "ticks", "-append", "beats=100000"};
        int n;
        try (Machine m = machine(args); QmpServer server = qmp(m); QmpClient c = QmpClient.negotiated(dir.resolve("qmp.sock"))) {
            assertEquals(Map.of(), c.execute("query-migrate"));
            m.start();
            awaitLine(m, "^beat 2 ");
            assertEquals("Parameter 'uri' expects a valid migration protocol (jkvm has file:PATH)",
                    error(c.request("migrate", QmpCommands.map("uri", "tcp:localhost:4444"))));
            assertEquals(Map.of(), c.execute("migrate", "uri", "file:" + file));
            c.awaitEvent("STOP");
            assertEquals("postmigrate", ((Map<?, ?>) c.execute("query-status")).get("status"));
            Map<?, ?> status = (Map<?, ?>) c.execute("query-migrate");
            assertEquals("completed", status.get("status"), status.toString());
            assertEquals(Files.size(file), ((Map<?, ?>) status.get("ram")).get("transferred"));
            Matcher last = Pattern.compile("beat (\\d+) ").matcher(m.serial().tail(1));
            assertTrue(last.find(), m.serial().tail(1));
            n = Integer.parseInt(last.group(1));
            c.execute("quit");
        }
        // The snapshot goes on in a new machine: the guest counts on from where it was.
        var config = ((Invocation.Run) CommandLine.parse(args[0], args[1], args[2], args[3], "-serial", "none")).config();
        try (Machine m2 = Machine.create(config, dev.jkvm.vmm.snapshot.Snapshot.load(file))) {
            m2.start();
            awaitLine(m2, "^beat " + (n + 1) + " ");
        }
    }

    @Test
    void tcpAndPrettyEndpoints() throws Exception {
        try (Machine m = machine("-bios", "spin", "-name", "tcpguest");
             QmpServer server = QmpServer.start(m, new Monitor(m), QmpSpec.tcp(0).withPretty(true))) {
            m.start();
            try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), server.port())) {
                s.getOutputStream().write("{\"execute\": \"qmp_capabilities\"}{\"execute\": \"query-name\"}".getBytes());
                java.io.InputStream in = s.getInputStream();
                StringBuilder got = new StringBuilder();
                String want = "{\r\n    \"return\": {\r\n        \"name\": \"tcpguest\"\r\n    }\r\n}\r\n";
                long end = System.nanoTime() + WAIT.toNanos();
                while (!got.toString().endsWith(want) && System.nanoTime() < end) {
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    got.append((char) b);
                }
                assertTrue(got.toString().startsWith("{\r\n    \"QMP\": {\r\n        \"version\": {\r\n"), got.toString());
                assertTrue(got.toString().endsWith("{\r\n    \"return\": {\r\n    }\r\n}\r\n" + want), got.toString());
            }
        }
    }
}
