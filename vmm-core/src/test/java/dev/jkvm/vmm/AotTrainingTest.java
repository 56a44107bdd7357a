package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's AOT cache holds every class its training run loaded, and the JVM loads every class
 * of the cache at each start, used or not (issue #20): so the training must load nothing a
 * harness's run does not. Read from the class-load log of the training run in a child JVM.
 */
@RequiresKvm
class AotTrainingTest {

    /** Classes only a detour of the training would load, and the detour. */
    private static final List<String> NOT_IN_A_HARNESS_RUN = List.of(
            "java.security.SecureRandom ",                 // Files.createTempFile (a bundled -kernel name copied out)
            "java.util.concurrent.ForkJoinPool ",          // CompletableFuture.get (the vCPU mailbox's wait)
            "jdk.internal.logger.");                       // System.exit (Runtime.exit logs the call)

    @Test
    void theTrainingLoadsOnlyWhatRunsLoad(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("load.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info:file=" + log, "-cp", SignalTest.jkvmClassPath(),
                AotTraining.class.getName(), dir.toString())
                .redirectOutput(dir.resolve("out").toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the training did not end");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("out")));
        String loaded = Files.readString(log);
        assertTrue(loaded.contains("dev.jkvm.vmm.boot.MultibootLoader "), "the log covers the training's kernel run");
        for (String c : NOT_IN_A_HARNESS_RUN) {
            assertTrue(!loaded.contains(c), c.trim() + " loaded by the training:\n"
                    + loaded.lines().filter(l -> l.contains(c)).findFirst().orElse(""));
        }
        try (var left = Files.list(dir)) {
            assertEquals(List.of("load.log", "out"), left.map(f -> f.getFileName().toString()).sorted().toList(),
                    "the training removes its ROM and kernel files");
        }
    }
}
