package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A harness's one-shot run (issue #20) initializes none of the JDK's run-time bootstraps the AOT
 * cache does not resolve ahead of time: each costs the interpreted start-up 3-25 ms (docs/benchmarks.md,
 * "Second round"). Read from the JVM's own class-initialization log of a real run; no timing.
 */
@RequiresKvm
class StartupPathTest {

    /** The classes whose initialization marks such a bootstrap, and what causes it. */
    private static final List<String> BOOTSTRAPS = List.of(
            "'java/lang/runtime/ObjectMethods'",   // a record's equals, hashCode or toString
            "'java/util/Formatter'",               // String.format
            "'java/util/regex/Pattern'",           // a regular expression
            "'jdk/internal/logger/");              // System.Logger (Runtime.exit sets it up)

    private static String initLog(Path dir, String... args) throws Exception {
        Path log = dir.resolve("init.log");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xlog:class+init=info:file=" + log));
        if (JkvmJvm.IN_VM) {
            // C1 only, as other children there; no AOT cache: the log must show what a run initializes itself
            cmd.add("-XX:TieredStopAtLevel=1");
        }
        cmd.addAll(List.of("-cp", JkvmJvm.jkvmClassPath(), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        // Only a bound for "it hangs": a child JVM without the AOT cache takes minutes under TCG at a high load.
        boolean ended = p.waitFor(JkvmJvm.IN_VM ? 900 : 120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        assertTrue(ended, "jkvm did not end");
        assertEquals(DEBUG_EXIT_2A, p.exitValue(), Files.readString(dir.resolve("out")));
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** debug-exit's status: it writes 0x2a to the port, (0x2a << 1) | 1. */
    private static final int DEBUG_EXIT_2A = 85;

    @Test
    void aHarnessRunOfARomBootstrapsNothingAtRunTime(@TempDir Path dir) throws Exception {
        String log = initLog(dir, "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio",
                "-m", "128M", "-machine", "pc-i440fx-7.2", "-bios", "debug-exit");
        assertTrue(log.contains("'dev/jkvm/vmm/Main'"), "the log covers the run");
        for (String b : BOOTSTRAPS) {
            assertTrue(!log.contains(b), b + " initialized:\n" + lineOf(log, b));
        }
    }

    /** A built-in model named on the line, with feature switches: from the built-in arrays, the text parser never runs. */
    @Test
    void aBuiltinModelWithSwitchesBootstrapsNothingAndParsesNoText(@TempDir Path dir) throws Exception {
        String log = initLog(dir, "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-cpu",
                "Skylake-Client-v4,+ssse3,-sse4.2,x2apic=on", "-bios", "debug-exit");
        assertTrue(log.contains("'dev/jkvm/vmm/cpu/BuiltinCpuTables'"), "the log covers the CPU tables");
        for (String b : BOOTSTRAPS) {
            assertTrue(!log.contains(b), b + " initialized:\n" + lineOf(log, b));
        }
        assertTrue(!log.contains("'dev/jkvm/vmm/cpu/CpudefParser'"), "the [cpudef] text was parsed");
    }

    private static String lineOf(String log, String what) {
        return log.lines().filter(l -> l.contains(what)).findFirst().orElse("");
    }
}
