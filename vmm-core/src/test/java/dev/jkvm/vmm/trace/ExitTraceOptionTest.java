package dev.jkvm.vmm.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.vmm.Main;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code -exit-trace} on the command line (no KVM needed: a bad value is refused first). */
class ExitTraceOptionTest {

    private static String fails(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, text);
        assertEquals(1, text.lines().count(), text);
        return text.strip();
    }

    @Test
    void theOptionReachesTheConfig() {
        MachineConfig c = ((Invocation.Run) CommandLine.parse("-exit-trace", "/tmp/t.html,limit=500")).config();
        assertEquals(new TraceSpec(Path.of("/tmp/t.html"), 500), c.exitTrace().orElseThrow());
        assertEquals(true, c.exitTrace().orElseThrow().html());
        assertEquals(TraceSpec.DEFAULT_LIMIT, ((Invocation.Run) CommandLine.parse("-exit-trace", "t.json")).config()
                .exitTrace().orElseThrow().limit());
    }

    @Test
    void badValuesAreOneLine() {
        assertEquals("jkvm: -exit-trace t.json,limit=lots: limit=lots: expected a number of events from 1 to 1000000000",
                fails("-exit-trace", "t.json,limit=lots"));
        assertEquals("jkvm: -exit-trace t.json,gzip: unsupported option 'gzip' (FILE[,limit=N])",
                fails("-exit-trace", "t.json,gzip"));
        assertEquals("jkvm: -exit-trace: requires an argument", fails("-exit-trace"));
    }
}
