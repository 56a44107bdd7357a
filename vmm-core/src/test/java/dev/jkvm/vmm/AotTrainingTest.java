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

    /**
     * Every class a run of the training's own command lines loads comes from the cache it made: one
     * from the jar opens the jar, ~10 ms of a tiny guest's start (a RomFiles class once was one: the
     * training's ROM file was too fresh for the path harnesses' older files take).
     */
    @Test
    void runsOfTheTrainedLinesLoadNothingFromTheJar(@TempDir Path dir) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Trained trained = trained(dir, javaBin);
        Path rom = dir.resolve("harness.rom");
        Path kernel = dir.resolve("harness.elf");
        Files.write(rom, dev.jkvm.vmm.boot.RomImage.bundled("debug-exit").bytes());
        try (var in = AotTraining.class.getResourceAsStream(dev.jkvm.vmm.boot.RomImage.BUNDLED_PATH + "mb-exit.elf")) {
            Files.write(kernel, in.readAllBytes());
        }
        var old = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
        Files.setLastModifiedTime(rom, old);
        Files.setLastModifiedTime(kernel, old);
        int n = 0;
        for (List<String> line : AotTraining.runs(rom.toString(), kernel.toString())) {
            Path log = dir.resolve("load" + n + ".log");
            List<String> cmd = new java.util.ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED"));
            cmd.addAll(trained.flags());
            cmd.addAll(List.of("-Xlog:class+load=info:file=" + log, "-cp", trained.classPath(), Main.class.getName()));
            cmd.addAll(line);
            Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("run" + n + ".out").toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "jkvm did not end: " + line);
            String loaded = Files.readString(log);
            assertTrue(loaded.contains("dev.jkvm.vmm.Main source: shared objects file"), "the cache was used: " + line);
            List<String> fromFiles = loaded.lines()
                    .filter(l -> l.contains("source: jar:") || l.contains("source: file:") || l.contains("source: jrt:"))
                    .toList();
            assertEquals(List.of(), fromFiles, "classes a run of " + line + " loaded from the class path");
            n++;
        }
    }

    /** The flags that take the trained cache, and the class path it was trained for. */
    private record Trained(List<String> flags, String classPath) {
    }

    /**
     * Inside the nested VM, the cache ./test trained before the VMs started ({@code JKVM_TEST_AOT_CACHE}):
     * this same {@link AotTraining}, for the children's class path of jars. Training again there took
     * ~340 s of TCG (most of it the cache's assembly), a third of a VM's share of the nested run.
     * Elsewhere, and when that cache or a jar-only path is missing, a training of its own.
     */
    private static Trained trained(Path dir, String javaBin) throws Exception {
        String made = System.getenv("JKVM_TEST_AOT_CACHE");
        String children = JkvmJvm.classPath();
        if (JkvmJvm.IN_VM && made != null && Files.isRegularFile(Path.of(made))
                && java.util.Arrays.stream(children.split(java.io.File.pathSeparator)).allMatch(e -> e.endsWith(".jar"))) {
            System.out.println("aot training: the runs take the cache ./test trained: " + made);
            return new Trained(JkvmJvm.placeFlags(), children);
        }
        Path cache = dir.resolve("jkvm.aot");
        String classPath = jarsOnly(JkvmJvm.jkvmClassPath(), dir);
        Process training = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-XX:AOTCacheOutput=" + cache,
                "-cp", classPath, AotTraining.class.getName(), dir.toString())
                .redirectOutput(dir.resolve("training.out").toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        assertTrue(training.waitFor(300, TimeUnit.SECONDS), "the training did not end");
        assertEquals(0, training.exitValue(), Files.readString(dir.resolve("training.out")));
        assertTrue(Files.size(cache) > 0, "a cache was written");
        return new Trained(List.of("-XX:AOTCache=" + cache, "-Xlog:aot=off", "-Xlog:cds=off"), classPath);
    }

    /** The class path with each class folder packed into a jar (an AOT cache takes jars only, as the launcher's has). */
    private static String jarsOnly(String classPath, Path dir) throws Exception {
        List<String> entries = new java.util.ArrayList<>();
        int n = 0;
        for (String e : classPath.split(java.io.File.pathSeparator)) {
            Path folder = Path.of(e);
            if (!Files.isDirectory(folder)) {
                entries.add(e);
                continue;
            }
            Path jar = dir.resolve("classes" + n++ + ".jar");
            try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(jar));
                    var files = Files.walk(folder)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    out.putNextEntry(new java.util.zip.ZipEntry(folder.relativize(f).toString().replace('\\', '/')));
                    Files.copy(f, out);
                    out.closeEntry();
                }
            }
            entries.add(jar.toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    @Test
    void theTrainingLoadsOnlyWhatRunsLoad(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("load.log");
        List<String> cmd = new java.util.ArrayList<>(List.of(JkvmJvm.java(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(JkvmJvm.jitFlags());
        cmd.addAll(List.of("-Xlog:class+load=info:file=" + log, "-cp", JkvmJvm.jkvmClassPath(), AotTraining.class.getName(),
                dir.toString()));
        Process p = new ProcessBuilder(cmd)
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
