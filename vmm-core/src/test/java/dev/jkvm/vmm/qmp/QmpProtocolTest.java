package dev.jkvm.vmm.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.QmpSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The protocol without a guest: a session fed a whole conversation answers each request as QEMU
 * 7.2 answers it (the expected lines are QEMU's own, recorded with socat against
 * {@code qemu-system-x86_64 -accel kvm}); the command table is never reached for these.
 */
class QmpProtocolTest {

    private static List<String> converse(String input) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CountDownLatch done = new CountDownLatch(1);
        QmpSession s = new QmpSession(new QmpCommands(null, null),
                new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out, false, done::countDown);
        s.start();
        assertTrue(done.await(30, TimeUnit.SECONDS));
        s.close(5000);
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\r\n"), text);
        return List.of(text.split("\r\n"));
    }

    @Test
    void negotiationIdsAndQemusErrors() throws Exception {
        List<String> lines = converse("""
                {"execute": "query-status"}
                {"execute": "qmp_capabilities", "id": 7}
                {"execute": "qmp_capabilities"}
                {"execute": "nosuch"}
                {"execute": "query-status", "arguments": {"x": 1}}
                {"execute": 5}
                [1]
                {"foo": 1}
                {"execute": "memsave", "arguments": {"val": "x", "size": 10, "filename": "/tmp/m"}}
                {"execute": "memsave", "arguments": {"val": 0, "size": 10}}
                {"execute": "query-status", "arguments": 3}
                {"execute": "memsave", "arguments": {"val": 18446744073709551000, "size": 16, "filename": "/tmp/m1"}}
                {"execute": "query-stats", "arguments": {"target": "x"}}
                {"execute": "query-stats", "arguments": {}}
                {"execute": "nosuch", "id": null}
                {"execute": foo}
                """);
        assertTrue(lines.get(0).startsWith("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": "), lines.get(0));
        assertTrue(lines.get(0).endsWith("\"capabilities\": []}}"), lines.get(0));
        assertEquals(List.of(
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation with 'qmp_capabilities'\"}}",
                "{\"return\": {}, \"id\": 7}",
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already complete, command ignored\"}}",
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nosuch has not been found\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is unexpected\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'execute' must be a string\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON object\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'foo' is unexpected\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'val', expected: integer\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'filename' is missing\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'arguments' must be an object\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'val', expected: integer\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'target' does not accept value 'x'\"}}",
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'target' is missing\"}}",
                "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nosuch has not been found\"}, \"id\": null}"),
                lines.subList(1, 16));
        assertTrue(lines.get(16).startsWith("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "), lines.get(16));
        assertEquals(17, lines.size());
    }

    @Test
    void capabilitiesJkvmDoesNotOffer() throws Exception {
        List<String> lines = converse("""
                {"execute": "qmp_capabilities", "arguments": {"enable": ["oob", "x"]}}
                {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}
                {"execute": "qmp_capabilities", "arguments": {"enable": [1]}}
                {"execute": "qmp_capabilities", "arguments": {"enable": []}}
                {"execute": "query-version", "id": "v"}
                """);
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'null' does not accept value 'x'\"}}", lines.get(1));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Capability 'oob' not available\"}}", lines.get(2));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'enable[0]', expected: string\"}}",
                lines.get(3));
        assertEquals("{\"return\": {}}", lines.get(4));
        assertTrue(lines.get(5).matches("\\{\"return\": \\{\"qemu\": \\{\"micro\": \\d+, \"minor\": \\d+, \"major\": \\d+}, "
                + "\"package\": \"jkvm [^\"]+\"}, \"id\": \"v\"}"), lines.get(5));
    }

    @Test
    void garbageOversizeAndAClientThatHangsUpMidMessage() throws Exception {
        String huge = "{\"execute\": \"" + "x".repeat(QmpSession.MAX_REQUEST_BYTES + 10) + "\"}";
        List<String> lines = converse("\u0000\u00ff}\n" + huge + "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"query-");
        assertEquals(List.of(
                "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON message size limit (1048576 bytes) exceeded\"}}",
                "{\"return\": {}}"), lines.subList(lines.size() - 2, lines.size()));
        for (String l : lines.subList(1, lines.size() - 2)) {
            assertTrue(l.startsWith("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "), l);
        }
    }

    @Test
    void endpointsInQemusSpelling() {
        assertEquals(new QmpSpec(QmpSpec.Kind.UNIX, Path.of("/tmp/q"), "", 0, true, false), QmpSpec.parse("unix:/tmp/q,server", false));
        assertEquals(new QmpSpec(QmpSpec.Kind.UNIX, Path.of("/tmp/q"), "", 0, false, true),
                QmpSpec.parse("unix:/tmp/q,server=on,wait=off", true));
        assertEquals(new QmpSpec(QmpSpec.Kind.UNIX, Path.of("/tmp/q"), "", 0, false, false), QmpSpec.parse("unix:/tmp/q,server,nowait", false));
        assertEquals(new QmpSpec(QmpSpec.Kind.TCP, null, "localhost", 4444, false, false),
                QmpSpec.parse("tcp:localhost:4444,server,wait=off", false));
        assertEquals(new QmpSpec(QmpSpec.Kind.TCP, null, "", 4444, false, false), QmpSpec.parse("tcp::4444,server,nowait", false));
        assertEquals(QmpSpec.Kind.STDIO, QmpSpec.parse("stdio", false).kind());
        for (String bad : List.of("unix:/tmp/q", "tcp::99999,server", "udp::1,server", "unix:,server", "unix:/q,server,telnet")) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> QmpSpec.parse(bad, false), bad);
        }
    }
}
