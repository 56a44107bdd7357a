package dev.jkvm.vmm.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.QmpSpec;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jkvm command with QMP: -qmp stdio, -mon chardev=ID,mode=control on a -chardev socket, as a user runs them. */
class QmpCliTest {

    private static final boolean IN_VM = System.getenv("JKVM_IN_VM") != null;
    /** "Does not hang" bound for jkvm's quit: 60 s; inside scripts/in-vm its JVM's start alone took about that on a loaded host. */
    private static final long QUIT_SECONDS = IN_VM ? 240 : 60;

    @TempDir
    Path dir;

    @Test
    void monModeControlTakesTheChardevsSocket() {
        var config = ((Invocation.Run) CommandLine.parse("-chardev", "socket,id=qm,path=/tmp/x.sock,server=on,wait=off",
                "-mon", "chardev=qm,mode=control,pretty=on")).config();
        assertEquals(List.of(new QmpSpec(QmpSpec.Kind.UNIX, Path.of("/tmp/x.sock"), "", 0, false, true)), config.qmp());
        var tcp = ((Invocation.Run) CommandLine.parse("-chardev", "socket,id=qm,host=127.0.0.1,port=4444,server=on",
                "-mon", "chardev=qm,mode=control")).config();
        assertEquals(new QmpSpec(QmpSpec.Kind.TCP, null, "127.0.0.1", 4444, true, false), tcp.qmp().get(0));
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.jkvm.vmm.JkvmException.class, () -> CommandLine.parse(
                "-chardev", "socket,id=qm,path=/tmp/x.sock", "-mon", "chardev=qm,mode=control")).getMessage()
                .contains("server=on"));
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.jkvm.vmm.JkvmException.class, () -> CommandLine.parse(
                "-qmp", "stdio")).getMessage().contains("cannot use stdio by multiple character devices"));
    }

    /** jkvm's child JVM with jackson-core on its class path, as the launcher's. */
    private static List<String> command(String... args) throws Exception {
        return dev.jkvm.vmm.JkvmJvm.command(List.of(), args);
    }

    @Test
    @RequiresKvm
    void qmpOnStdio() throws Exception {
        Process p = new ProcessBuilder(command("-bios", "spin", "-nodefaults", "-qmp", "stdio")).start();
        p.getOutputStream().write("""
                {"execute": "qmp_capabilities"}
                {"execute": "query-status"}
                {"execute": "quit"}
                """.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().flush();
        assertTrue(p.waitFor(QUIT_SECONDS, TimeUnit.SECONDS), "jkvm did not quit");
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(0, p.exitValue(), err);
        assertTrue(lines.get(0).startsWith("{\"QMP\": "), lines.toString());
        assertEquals(List.of("{\"return\": {}}", "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}",
                "{\"return\": {}}"), lines.subList(1, 4));
        assertTrue(lines.get(4).contains("\"event\": \"SHUTDOWN\""), lines.toString());
    }

    @Test
    @RequiresKvm
    void monModeControlOnAChardevSocketWaitsForItsClient() throws Exception {
        Path sock = dir.resolve("qmp.sock");
        Process p = new ProcessBuilder(command("-bios", "spin", "-nodefaults",
                "-chardev", "socket,id=qmp0,path=" + sock + ",server=on", "-mon", "chardev=qmp0,mode=control"))
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        try {
            String want = "jkvm: -qmp unix:" + sock + ": waiting for a QMP client to connect";
            List<String> seen = new ArrayList<>();
            String line;
            while ((line = out.readLine()) != null && !line.equals(want) && seen.size() < 20) {
                seen.add(line); // CPUID warnings come first on this host
            }
            assertEquals(want, line, seen.toString());
            assertTrue(Files.exists(sock));
            try (QmpClient c = QmpClient.negotiated(sock)) {
                assertEquals("running", ((Map<?, ?>) c.execute("query-status")).get("status"));
                c.execute("quit");
                assertEquals("host-qmp-quit", ((Map<?, ?>) c.awaitEvent("SHUTDOWN").get("data")).get("reason"));
                assertTrue(c.closedByServer());
            }
            assertTrue(p.waitFor(QUIT_SECONDS, TimeUnit.SECONDS), "jkvm did not quit");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }
}
