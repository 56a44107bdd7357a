package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jkvm where a harness expects QEMU: {@code scripts/test/harness-run} probes a binary and runs the
 * bundled harness kernels (testdev, low8000, cpuinfo) with the run line test harnesses give QEMU,
 * through {@code timeout}; the kernels' own verdicts (status 33) and what they saw decide. When
 * Debian's QEMU is installed, the same script runs it on the same kernels in the same test, and
 * the exit statuses must match; both runs' times are printed.
 */
@RequiresKvm
class HarnessTest {

    private static final List<String> KERNELS = List.of("testdev", "low8000", "cpuinfo");
    private static final Pattern RUN = Pattern.compile("run (\\S+) status=(\\d+) seconds=([0-9.]+)(?: crashed=\"(.*)\")?");

    @TempDir
    Path dir;

    /**
     * One run of the script: each kernel's status and seconds, the runs the binary itself ended on
     * a signal (with its last stderr line), and where its logs are.
     */
    private record Runs(String probe, Map<String, Integer> status, Map<String, Double> seconds, Map<String, String> crashed,
            Path out) {
        String log(String name) throws java.io.IOException {
            return Files.readString(out.resolve(name + ".log"), StandardCharsets.UTF_8);
        }
    }

    private static Path script() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            Path s = p.resolve("scripts/test/harness-run");
            if (Files.isRegularFile(s)) {
                return s;
            }
        }
        throw new AssertionError("scripts/test/harness-run not found above " + System.getProperty("user.dir"));
    }

    private Path kernels() throws Exception {
        Path k = Files.createDirectories(dir.resolve("kernels"));
        for (String name : KERNELS) {
            try (InputStream in = Main.class.getResourceAsStream("/dev/jkvm/guest/" + name + ".elf")) {
                assertTrue(in != null, name + ".elf is not bundled");
                Files.copy(in, k.resolve(name + ".elf"));
            }
        }
        return k;
    }

    /** A jkvm command a harness can call by path (what ./jkvm is, without its build step). */
    private Path jkvmBinary() throws Exception {
        Path bin = dir.resolve("jkvm");
        // Inside scripts/in-vm with C1 only and the AOT cache (JkvmJvm): a JVM's start is most of a
        // run's time under TCG.
        StringBuilder exec = new StringBuilder("exec");
        for (String a : JkvmJvm.command(List.of("-XX:+UseSerialGC"))) {
            exec.append(" '").append(a).append('\'');
        }
        Files.writeString(bin, "#!/bin/sh\n" + exec + " \"$@\"\n");
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    private Runs harness(String binary, Path kernels, String outName) throws Exception {
        Path out = dir.resolve(outName);
        ProcessBuilder pb = new ProcessBuilder("bash", script().toString(), binary, kernels.toString(), out.toString())
                .redirectErrorStream(true);
        if (System.getenv("JKVM_IN_VM") != null) {
            // harness-run's limit per run is 120 s; inside scripts/in-vm a JVM's (or QEMU's) start
            // alone took up to that on a loaded host. The verdicts asked for are the same.
            pb.environment().put("HARNESS_TIMEOUT", "480");
        }
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "harness-run did not end");
        assertEquals(0, p.exitValue(), text);
        Map<String, Integer> status = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        Map<String, String> crashed = new LinkedHashMap<>();
        String probe = "";
        for (String line : text.lines().toList()) {
            Matcher m = RUN.matcher(line);
            if (m.matches()) {
                status.put(m.group(1), Integer.parseInt(m.group(2)));
                seconds.put(m.group(1), Double.parseDouble(m.group(3)));
                if (m.group(4) != null) {
                    crashed.put(m.group(1), m.group(4));
                }
            } else if (line.startsWith("probe ")) {
                probe = line;
            }
        }
        assertEquals(KERNELS, List.copyOf(status.keySet()), text);
        return new Runs(probe, status, seconds, crashed, out);
    }

    private static void contains(String log, String regex) {
        assertTrue(Pattern.compile(regex, Pattern.MULTILINE).matcher(log).find(), "no line matching " + regex + " in:\n" + log);
    }

    /**
     * QEMU's verdicts that say something about the kernel: a run QEMU itself ended on a signal (QEMU
     * 7.2 aborts on an AMD kvm_pvm host with the harness's -cpu max) is QEMU's failure on this host,
     * printed and left out; at least one run must remain to compare.
     */
    private static Map<String, Integer> comparable(Runs q) {
        Map<String, Integer> left = new LinkedHashMap<>(q.status());
        q.crashed().forEach((k, why) -> {
            System.out.println("harness: QEMU crashed on " + k + " on this host (status " + q.status().get(k) + ", \"" + why
                    + "\"): that run is not compared");
            left.remove(k);
        });
        assertTrue(!left.isEmpty(), "QEMU crashed on every kernel: nothing to compare, " + q.crashed());
        return left;
    }

    @Test
    void aRunTheBinaryEndsOnASignalIsMarkedCrashedAndLeftOutOfTheComparison() throws Exception {
        // A stand-in for a QEMU that answers the harness's probes and aborts on -cpu max.
        Path fake = dir.resolve("fake-qemu");
        Files.writeString(fake, """
                #!/bin/sh
                case "$*" in
                  --help) echo "QEMU emulator, stand-in"; exit 0 ;;
                  -h) echo "QEMU emulator version 7.2.0"; exit 0 ;;
                  "-device ?") for d in pc-testdev pci-testdev isa-debug-exit; do echo "name \\"$d\\", bus ISA"; done; exit 0 ;;
                  *"-cpu max"*) echo "fake-qemu: warning: first"; echo 'fake-qemu: kvm.c:1: put_msrs: Assertion "ret" failed.' >&2; kill -ABRT $$ ;;
                esac
                exit 33
                """);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Runs r = harness(fake.toString(), kernels(), "fake-run");
        assertEquals(Map.of("testdev", 134, "low8000", 134, "cpuinfo", 33), r.status());
        assertEquals(Map.of("testdev", "fake-qemu: kvm.c:1: put_msrs: Assertion ret failed.",
                "low8000", "fake-qemu: kvm.c:1: put_msrs: Assertion ret failed."), r.crashed());
        assertEquals(Map.of("cpuinfo", 33), comparable(r));
    }

    @Test
    void aHarnessWrittenForQemuGetsTheSameVerdictsFromJkvm() throws Exception {
        Path kernels = kernels();
        Runs jkvm = harness(jkvmBinary().toString(), kernels, "jkvm-run");
        assertTrue(jkvm.probe().matches("probe help=ok version=\"jkvm emulator version \\d+\\.\\d+\\.\\d+ .*\" major=\\d+ minor=\\d+"
                + " micro=\\d+ devices=ok"), jkvm.probe());
        for (String k : KERNELS) {
            assertEquals(33, jkvm.status().get(k), k + ":\n" + jkvm.log(k));
        }
        String testdev = jkvm.log("testdev");
        contains(testdev, "^env module=\"JKVM_ENV=ok\" ok\r?$");
        contains(testdev, "^phys_bits=\\d+ ok\r?$");
        contains(testdev, "^ports ok\r?$");
        contains(testdev, "^flush ok\r?$");
        contains(testdev, "^iomem ok\r?$");
        contains(testdev, "^irq line=10 level repeated=1 quiet_after_lower=1 refired=1 quiet_again=1 ok\r?$");
        contains(testdev, "^pci 00:02\\.0 1b36:0005 class=0x00ff bar0=0xfebff000 bar1=0xc001\r?$");
        contains(testdev, "^pci tests=6\r?$");
        contains(testdev, "^debugcon port=0x402 readback=0xe9 ok\r?$");
        assertEquals("testdev on debugcon\n", Files.readString(jkvm.out().resolve("debugcon.log")));
        String low = jkvm.log("low8000");
        contains(low, "^low8000 start=0x8000 end=0x8[0-9a-f]{3} magic=ok\r?$");
        contains(low, "^rsdp addr=0xf[0-9a-f]{4} area=bios rev=2 oem=\"JKVM  \" rsdt=0x[0-9a-f]+ checksum=ok\r?$");
        contains(low, "^rsdt entries=\\d+ checksum=ok\r?$");
        contains(jkvm.log("cpuinfo"), "^cpus online=2 ");

        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        if (!Files.isExecutable(qemu)) {
            System.out.println("harness: QEMU (qemu-system-x86_64) is not installed here: the comparison with QEMU did not run");
            return;
        }
        Runs q = harness(qemu.toString(), kernels, "qemu-run");
        Map<String, Integer> compared = comparable(q);
        Map<String, Integer> ours = new LinkedHashMap<>(jkvm.status());
        ours.keySet().retainAll(compared.keySet());
        assertEquals(ours, compared, "exit statuses, jkvm against QEMU; QEMU's testdev log:\n" + q.log("testdev"));
        if (!q.crashed().containsKey("testdev")) {
            // Under QEMU, SeaBIOS logs on 0x402 first; the kernel's line comes last there too.
            String qemuDebugcon = Files.readString(q.out().resolve("debugcon.log"));
            assertTrue(qemuDebugcon.endsWith("testdev on debugcon\n"), qemuDebugcon);
        }
        double jkvmTotal = jkvm.seconds().values().stream().mapToDouble(Double::doubleValue).sum();
        double qemuTotal = q.seconds().values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder sb = new StringBuilder("harness: wall time per run, jkvm against QEMU (" + q.probe() + ")\n");
        for (String k : KERNELS) {
            sb.append(String.format("harness:   %-8s jkvm %6.2f s  QEMU %6.2f s  status %d%n", k, jkvm.seconds().get(k),
                    q.seconds().get(k), jkvm.status().get(k)));
        }
        sb.append(String.format("harness:   all      jkvm %6.2f s  QEMU %6.2f s  (%.1fx)%n", jkvmTotal, qemuTotal, qemuTotal / jkvmTotal));
        System.out.print(sb);
    }
}
