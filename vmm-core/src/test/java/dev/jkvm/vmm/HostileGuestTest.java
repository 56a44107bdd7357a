package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.serial.SinkWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The hostile-guest set of guest-images, each run as a jkvm process with a bound on its wall time
 * and on its peak RSS (VmHWM): MMIO a bus must split, every port with every size, ROM writes, a
 * spin with interrupts off, and cyclic page tables under the monitor's walks.
 */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // measures a process's memory and time
class HostileGuestTest {

    /**
     * Generous bounds: the machines here are noisy; jkvm needs about 60 MB and seconds for each (under
     * TCG in the nested VM, 83 s for hostile-ports at load 3, over 180 s at load 12).
     */
    private static final Duration WALL = Duration.ofSeconds(JkvmJvm.IN_VM ? 900 : 180);
    private static final long PEAK_RSS_KB = 400 * 1024;

    record Run(int status, String out, String err, long peakRssKb, long wallMillis) {
    }

    /** Runs jkvm as ./jkvm runs it, polling its VmHWM until it ends. */
    static Run jkvm(String... args) throws Exception {
        List<String> cmd = JkvmJvm.command(List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms16m", "-Xmn8m", "-XX:TieredStopAtLevel=1"), args);
        Path dir = Files.createTempDirectory("jkvm-hostile");
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        long peak = 0;
        long deadline = t0 + WALL.toNanos();
        while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            peak = Math.max(peak, hwm(p.pid()));
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("jkvm " + String.join(" ", args) + " ran longer than " + WALL + ": "
                        + Files.readString(err));
            }
        }
        long wall = (System.nanoTime() - t0) / 1_000_000;
        Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                peak, wall);
        System.out.printf("hostile: jkvm %s: status %d, %d ms, peak RSS %d MB%n", String.join(" ", args), r.status(), wall, peak >> 10);
        assertTrue(peak < PEAK_RSS_KB, "peak RSS " + (peak >> 10) + " MB: " + r.err());
        return r;
    }

    private static long hwm(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process ended meanwhile
        }
        return 0;
    }

    @Test
    void mmioOfEveryLengthAtEveryAlignmentAndRomWritesAreTaken() throws Exception {
        Run r = jkvm("-bios", "hostile-mmio");
        assertEquals(33, r.status(), r.err());
        assertEquals("hostile-mmio ok\r\n", r.out().substring(r.out().indexOf("hostile-mmio")), r.out());
        assertTrue(!r.err().contains("Exception"), r.err());
    }

    @Test
    void everyPortWithEverySizeIsTaken() throws Exception {
        Run r = jkvm("-bios", "hostile-ports", "-serial", "stdio");
        assertEquals(33, r.status(), r.err());
        assertTrue(r.out().contains("hostile-ports ok\r\n"), r.out());
    }

    @Test
    void aStderrNobodyReadsNeverStopsTheVcpuThatLogs() throws Exception {
        // -d unimp logs 4096 lines (300 KB) from the vCPU thread; the pipe holds 64 KiB and is read only at the end.
        Path out = Files.createTempFile("jkvm-hostile", ".out");
        Process p = new ProcessBuilder(JkvmJvm.command(List.of("-XX:TieredStopAtLevel=1"), "-bios", "hostile-ports", "-serial", "stdio", "-d", "unimp"))
                .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        boolean ended = p.waitFor(WALL.toSeconds(), TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ended, "jkvm waited for a stderr nobody read");
        assertEquals(33, p.exitValue(), err.substring(Math.max(0, err.length() - 500)));
        assertTrue(Files.readString(out).contains("hostile-ports ok\r\n"));
        assertTrue(err.startsWith("jkvm: ") && err.contains("jkvm: unimplemented port 0x"), err.substring(0, Math.min(300, err.length())));
        // What the pipe held when jkvm gave up waiting for it (100 ms without a read): the rest was dropped.
        assertTrue(err.length() <= 2 * SinkWriter.CAPACITY + 64 * 1024, err.length() + " bytes");
    }

    @Test
    void aSpinWithInterruptsOffEndsAtTheTimeout() throws Exception {
        Run r = jkvm("-bios", "spin", "-timeout", "2");
        assertEquals(124, r.status(), r.err());
        assertTrue(r.wallMillis() < WALL.toMillis());
    }

    @Test
    void cyclicPageTablesAreWalkedBoundedAndSayTheyWereCut() throws Exception {
        try (Machine m = DevicesGuestTest.machine("-kernel", "hostile-paging")) {
            m.start();
            assertTrue(m.serial().awaitLine(Pattern.compile("cyclic page tables ready.*"), Duration.ofSeconds(60)).isPresent(),
                    m.serial().transcript());
            Monitor monitor = new Monitor(m);
            for (String command : List.of("info mem", "info tlb")) {
                long t0 = System.nanoTime();
                String text = assertTimeoutPreemptively(WALL, () -> monitor.execute(command));
                System.out.printf("hostile: %s on cyclic tables: %d lines, %d chars, %d ms%n", command, text.lines().count(),
                        text.length(), (System.nanoTime() - t0) / 1_000_000);
                assertTrue(text.contains("(cut: the walk stopped after"), command + ": " + text.substring(Math.max(0, text.length() - 400)));
                assertTrue(text.lines().count() <= 70_000, command + ": " + text.lines().count() + " lines");
                assertTrue(text.startsWith("0000000000000000"), text.substring(0, Math.min(200, text.length())));
            }
            assertEquals("VM status: running\n", monitor.execute("info status"));
        }
    }

    @Test
    void infoExitsAnswersWhileTheVcpuSpinsInTheGuest() throws Exception {
        try (Machine m = DevicesGuestTest.machine("-bios", "spin")) {
            m.start();
            assertTrue(m.serial().awaitLine(Pattern.compile("spinning"), Duration.ofSeconds(60)).isPresent());
            Thread.sleep(500); // well inside KVM_RUN, without an exit
            Monitor monitor = new Monitor(m);
            String text = assertTimeoutPreemptively(WALL, () -> monitor.execute("info exits"));
            assertTrue(text.contains("CPU 0/KVM"), text);
            assertTrue(text.contains("kernel mode"), text);
        }
    }

    @Test
    void aHugeDumpIsOneErrorLineAndTheMonitorGoesOn() throws Exception {
        try (Machine m = DevicesGuestTest.machine("-bios", "spin")) {
            m.start();
            Monitor monitor = new Monitor(m);
            assertEquals("Error: count 2147483647 too large: a dump is at most 1048576 bytes\n", monitor.execute("xp /2147483647xg 0"));
            assertEquals("Error: count 99999999999999999999 too large: a dump is at most 1048576 bytes\n",
                    monitor.execute("xp /99999999999999999999xb 0"));
            assertEquals("Error: 262144 units of 8 bytes too large: a dump is at most 1048576 bytes\n", monitor.execute("xp /262144xg 0"));
            assertEquals(65536, monitor.execute("xp /131072xg 0x100000").lines().count(), "the largest dump: 1 MiB");
            assertEquals("VM status: running\n", monitor.execute("info status"));
        }
    }
}
