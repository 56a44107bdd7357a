package dev.jkvm.vmm;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The command line of a jkvm JVM that a test starts, so that all of them run one class path and,
 * inside scripts/in-vm, the same start-up help: C1 only with the launcher's high JIT thresholds
 * (compile time does not pay off under TCG) and the AOT cache ./test trained on the host for that
 * class path ({@code JKVM_TEST_AOT_CACHE}).
 * A JVM's start there cost 20-80 s of a test's time, mostly loading and linking classes.
 */
public final class JkvmJvm {

    public static final boolean IN_VM = System.getenv("JKVM_IN_VM") != null;

    private JkvmJvm() {
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * jkvm's own class path, from where its classes were loaded (java.class.path may be a test
     * launcher's jar alone): vmm-core, kvm-bindings, devices and the guest images.
     */
    public static String jkvmClassPath() throws Exception {
        LinkedHashSet<String> entries = new LinkedHashSet<>();
        for (Class<?> c : List.of(Main.class, dev.jkvm.kvm.Kvm.class, dev.jkvm.devices.PortBus.class)) {
            entries.add(codeSource(c));
        }
        java.net.URL rom = Main.class.getResource("/dev/jkvm/guest/spin.rom");
        String url = rom.toString();
        if (url.startsWith("jar:file:")) {
            entries.add(Path.of(java.net.URI.create(url.substring(4, url.indexOf("!/")))).toString());
        } else {
            entries.add(Path.of(rom.toURI()).getParent().getParent().getParent().getParent().toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    /** What a jkvm child runs: jkvm's class path and jackson-core (QMP), as the launcher's. */
    public static String classPath() throws Exception {
        return jkvmClassPath() + File.pathSeparator + codeSource(com.fasterxml.jackson.core.JsonFactory.class);
    }

    private static String codeSource(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /**
     * The flags the place adds: inside scripts/in-vm C1 only, and the AOT cache when ./test names
     * one (the JVM checks that it was made for this class path and these jars, and else runs
     * without it; its own messages about the cache stay off the child's output, which tests read).
     */
    public static List<String> placeFlags() {
        List<String> flags = new ArrayList<>(jitFlags());
        String cache = System.getenv("JKVM_TEST_AOT_CACHE");
        if (cache != null && !cache.isEmpty() && Files.isRegularFile(Path.of(cache))) {
            // mapped where it was made, as the launcher does: relocating re-points every pointer in it
            flags.addAll(List.of("-XX:AOTCache=" + cache, "-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0",
                    "-Xlog:aot=off", "-Xlog:cds=off"));
        }
        return flags;
    }

    /**
     * Inside scripts/in-vm: C1 only, and the launcher's JIT thresholds (50 times higher): a short run
     * stays interpreted and starts no compiler thread, which under TCG costs more than it saves (a
     * harness's low8000 run in a quiet VM: 4.6-5.2 s with C1's own thresholds, 2.6-3.1 s so).
     * Elsewhere none.
     */
    public static List<String> jitFlags() {
        return IN_VM ? List.of("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=50") : List.of();
    }

    /** {@code java --enable-native-access=ALL-UNNAMED FLAGS [place flags] -cp CLASSPATH dev.jkvm.vmm.Main ARGS}. */
    public static List<String> command(List<String> jvmFlags, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmFlags);
        cmd.addAll(placeFlags());
        cmd.addAll(List.of("-cp", classPath(), Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * Prints {@link #classPath()} as the test JVM with this class path computes it: ./test trains the
     * children's AOT cache for exactly that path before the VMs start.
     */
    public static void main(String[] args) throws Exception {
        System.out.println(classPath());
    }
}
