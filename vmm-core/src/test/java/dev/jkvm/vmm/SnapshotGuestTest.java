package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import dev.jkvm.vmm.snapshot.RestoreStats;
import dev.jkvm.vmm.snapshot.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot and restore, proved from inside the guest: the bundled {@code snapshot} kernel writes a
 * pattern, overwrites it on request and says whether it is intact; {@code ticks} counts timer
 * interrupts across a save to a file and a resume from it.
 */
@RequiresKvm
class SnapshotGuestTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Pattern TIME = Pattern.compile("snap time tsc=(\\d+) rtc=(.+)");

    static MachineConfig config(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "-serial";
        all[args.length + 1] = "none";
        return ((Invocation.Run) CommandLine.parse(all)).config();
    }

    static String await(Machine m, String regex) throws InterruptedException {
        return m.serial().awaitLine(Pattern.compile(regex), WAIT)
                .orElseThrow(() -> new AssertionError("no line matching " + regex + " in:\n" + m.serial().tail(20)));
    }

    static String command(Machine m, String c, String answer) throws InterruptedException {
        m.serial().send(c);
        return await(m, answer);
    }

    @Test
    void theGuestSeesItsPatternAgainAfterAnInPlaceRestore() throws InterruptedException {
        try (Machine m = Machine.create(config("-kernel", "snapshot"))) {
            m.start();
            await(m, "snap ready cpus=1 pages=256");
            Snapshot s = m.snapshot();
            assertFalse(m.paused(), "a running machine goes on after the snapshot");
            assertTrue(s.memory().storedPages() < s.memory().totalPages() / 4, "sparse: " + s.memory().storedPages());
            for (int round = 0; round < 3; round++) {
                command(m, "o", "snap overwritten");
                command(m, "c", "snap pattern lost mismatches=131072");
                m.restore(s);
                assertEquals("snap pattern intact", command(m, "c", "snap pattern .*"), "round " + round);
                RestoreStats r = m.lastRestore();
                assertTrue(r.pages() >= 256, r.toString());
                // The first restore after the snapshot already knows which pages the guest wrote.
                assertTrue(r.dirtyOnly(), r.toString());
                assertTrue(r.pages() < 2048, "only the dirty pages were written: " + r);
            }
            // A restore of a snapshot the memory does not equal (the host wrote it) looks at every page.
            m.writePhysical(0x7000, new byte[] {1, 2, 3});
            m.restore(s);
            assertFalse(m.lastRestore().dirtyOnly());
            assertEquals("snap pattern intact", command(m, "c", "snap pattern .*"));
        }
    }

    @Test
    void ticksSavedMidCountFinishItsCountFromTheFile(@TempDir Path dir) throws Exception {
        MachineConfig config = config("-kernel", "ticks", "-append", "seconds=4");
        Path file = dir.resolve("ticks.snap");
        long before;
        try (Machine m = Machine.create(config)) {
            m.start();
            await(m, "irq 0 via=.*");
            Thread.sleep(1500);
            m.pause();
            before = m.readSymbolValue("irq0_count");
            m.snapshot().save(file);
            assertTrue(m.paused(), "a paused machine stays paused");
        }
        try (Machine m = Machine.create(config, Snapshot.load(file))) {
            RunResult r = m.run(WAIT);
            assertEquals(33, r.exitStatus(), r.serialTail(10));
            assertFalse(r.serial().contains("irq 0 via"), "it did not start over: " + r.serial());
            Matcher t = Pattern.compile("ticks irq0=(\\d+) seconds=4").matcher(r.serial());
            assertTrue(t.find(), r.serial());
            long after = m.readSymbolValue("irq0_count");
            assertTrue(after > before + 50, "the timer went on firing: " + before + " then " + after);
        }
    }

    @Test
    void anSmpGuestSavedWhileItsApsRunResumesWithAllOfThem(@TempDir Path dir) throws InterruptedException {
        MachineConfig config = config("-kernel", "snapshot", "-smp", "2", "-append", "aps=1");
        Path file = dir.resolve("smp.snap");
        try (Machine m = Machine.create(config)) {
            m.start();
            await(m, "snap ready cpus=2 pages=256");
            assertEquals("snap aps running=1 of 1", command(m, "a", "snap aps .*"));
            m.snapshot().save(file);
        }
        try (Machine m = Machine.create(config, Snapshot.load(file))) {
            m.start();
            assertEquals("snap aps running=1 of 1", command(m, "a", "snap aps .*"));
            assertEquals("snap pattern intact", command(m, "c", "snap pattern .*"));
        }
    }

    /** How long the saved guest waits in its file: more than its readings' slack, so a clock that counted it shows. */
    private static final long SAVED_FOR_MILLIS = 5000;

    @Test
    void clocksGoOnFromTheSavedTimeAndARestoredGuestSavesAgain(@TempDir Path dir) throws Exception {
        MachineConfig config = config("-kernel", "snapshot");
        Path first = dir.resolve("first.snap");
        Path second = dir.resolve("second.snap");
        Matcher t1;
        long running; // ns the guest ran between its two readings: from the first to the save, and from the restore to the second
        try (Machine m = Machine.create(config)) {
            m.start();
            await(m, "snap ready.*");
            t1 = TIME.matcher(command(m, "t", "snap time .*"));
            long read = System.nanoTime();
            m.snapshot().save(first);
            running = System.nanoTime() - read;
        }
        Thread.sleep(SAVED_FOR_MILLIS);
        long restore = System.nanoTime();
        try (Machine m = Machine.create(config, Snapshot.load(first))) {
            m.start();
            Matcher t2 = TIME.matcher(command(m, "t", "snap time .*"));
            running += System.nanoTime() - restore;
            assertTrue(t1.matches() && t2.matches());
            long rtcGap = Duration.between(rtc(t1.group(2)), rtc(t2.group(2))).toSeconds();
            // A guest that ran slowly (a loaded host, a nested VM) saw more seconds pass while it ran, never the
            // time it spent saved: that would be SAVED_FOR_MILLIS more than the time it ran (+1 for each reading's rounding).
            long ranSeconds = Duration.ofNanos(running).toSeconds() + 1;
            assertTrue(rtcGap >= 0 && rtcGap <= ranSeconds + 1, "the RTC went on from the saved time: " + t1.group(2) + " then "
                    + t2.group(2) + " (the guest ran " + Duration.ofNanos(running).toMillis() + " ms between them, and was saved for "
                    + SAVED_FOR_MILLIS + " ms)");
            assertTrue(Long.parseLong(t2.group(1)) > Long.parseLong(t1.group(1)), "the TSC went on: " + t1.group(1) + " then " + t2.group(1));
            command(m, "o", "snap overwritten");
            command(m, "c", "snap pattern lost.*");
            m.snapshot().save(second); // the restored guest, saved again with its pattern overwritten
        }
        try (Machine m = Machine.create(config, Snapshot.load(second))) {
            m.start();
            assertEquals("snap pattern lost mismatches=131072", command(m, "c", "snap pattern .*"));
            m.serial().send("q");
            assertEquals(33, m.run(WAIT).exitStatus());
        }
    }

    private static LocalDateTime rtc(String s) {
        return LocalDateTime.parse(s, DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
    }

    @Test
    void badFilesAreRefusedWithOneLine(@TempDir Path dir) throws IOException, InterruptedException {
        MachineConfig config = config("-kernel", "snapshot", "-m", "64M");
        Path good = dir.resolve("good.snap");
        try (Machine m = Machine.create(config)) {
            m.start();
            await(m, "snap ready.*");
            m.snapshot().save(good);
        }
        byte[] bytes = Files.readAllBytes(good);
        assertTrue(bytes.length < 3 << 20, "sparse: " + bytes.length + " bytes for 64 MiB");
        Path truncated = Files.write(dir.resolve("truncated.snap"), Arrays.copyOf(bytes, bytes.length / 2));
        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x40;
        Path corrupt = Files.write(dir.resolve("corrupt.snap"), flipped);
        Path other = Files.write(dir.resolve("other.snap"), "hello, not a snapshot".getBytes());
        Path empty = Files.write(dir.resolve("empty.snap"), new byte[0]);
        byte[] older = bytes.clone();
        java.nio.ByteBuffer.wrap(older).putInt(8, 1); // a file from before the legacy ROM area's regions
        Path version1 = Files.write(dir.resolve("version1.snap"), older);
        assertOneLine(truncated + ": truncated snapshot", () -> Snapshot.load(truncated));
        assertOneLine(corrupt + ": ", () -> Snapshot.load(corrupt));
        assertOneLine(other + ": not a jkvm snapshot", () -> Snapshot.load(other));
        assertOneLine(empty + ": truncated snapshot", () -> Snapshot.load(empty));
        assertOneLine(version1 + ": snapshot format version 1; this jkvm reads version 2", () -> Snapshot.load(version1));
        assertOneLine(dir.resolve("none") + ": no such file", () -> Snapshot.load(dir.resolve("none")));
        Snapshot s = Snapshot.load(good);
        assertOneLine("the snapshot is of another machine: -m 64M in the snapshot, 128M here",
                () -> Machine.create(config("-kernel", "snapshot"), s));
        assertOneLine("the snapshot is of another machine: -smp 1,maxcpus=1",
                () -> Machine.create(config("-kernel", "snapshot", "-m", "64M", "-smp", "2"), s));
    }

    @Test
    void theMonitorsMigrateLeavesTheMachinePausedAndIncomingResumesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ticks.snap");
        String[] ticks = {"-kernel", "ticks", "-append", "seconds=3", "-serial", "none"};
        try (Machine m = Machine.create(config("-kernel", "ticks", "-append", "seconds=3"))) {
            dev.jkvm.vmm.monitor.Monitor mon = new dev.jkvm.vmm.monitor.Monitor(m);
            m.start();
            await(m, "irq 0 via=.*");
            assertEquals("", mon.execute("info migrate"), "nothing before the first migration, as QEMU");
            assertEquals("Error: jkvm migrates to files only (migrate file:PATH), not 'tcp:localhost:4444'\n",
                    mon.execute("migrate tcp:localhost:4444"));
            assertTrue(mon.execute("migrate file:" + dir.resolve("no/such/dir/x.snap")).startsWith("Error: "));
            assertFalse(m.paused(), "a failed migration leaves the machine running");
            assertEquals("", mon.execute("migrate file:" + file));
            assertTrue(m.paused(), "the source stays paused after the migration, as QEMU's");
            assertEquals("VM status: paused\n", mon.execute("info status"));
            String info = mon.execute("info migrate");
            assertTrue(info.startsWith("Migration status: completed\ntotal time: "), info);
            assertTrue(info.contains("file size: " + Files.size(file) + " bytes"), info);
        }
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        String[] incoming = Arrays.copyOf(ticks, ticks.length + 2);
        incoming[ticks.length] = "-incoming";
        incoming[ticks.length + 1] = "file:" + file;
        assertEquals(33, Main.run(incoming, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                new java.io.PrintStream(err)), err.toString());

        Path bad = Files.write(dir.resolve("bad.snap"), new byte[100]);
        incoming[ticks.length + 1] = "file:" + bad;
        assertEquals(1, Main.run(incoming, System.out, new java.io.PrintStream(err = new java.io.ByteArrayOutputStream())));
        assertEquals("jkvm: -incoming: " + bad + ": not a jkvm snapshot\n", lastLine(err));
        String[] bigger = Arrays.copyOf(incoming, incoming.length + 2);
        bigger[incoming.length - 1] = "file:" + file;
        bigger[incoming.length] = "-m";
        bigger[incoming.length + 1] = "256M";
        assertEquals(1, Main.run(bigger, System.out, new java.io.PrintStream(err = new java.io.ByteArrayOutputStream())));
        assertEquals("jkvm: -incoming: the snapshot is of another machine: -m 128M in the snapshot, 256M here\n", lastLine(err));
        String[] tcp = Arrays.copyOf(incoming, incoming.length);
        tcp[incoming.length - 1] = "tcp:0:4444";
        assertEquals(1, Main.run(tcp, System.out, new java.io.PrintStream(err = new java.io.ByteArrayOutputStream())));
        assertEquals("jkvm: -incoming tcp:0:4444: jkvm resumes snapshots from files only (file:PATH)\n", lastLine(err));
    }

    @Test
    void theTestDevicesAreSavedAndAMachineWithoutThemRefusesTheSnapshot(@TempDir Path dir) throws InterruptedException {
        MachineConfig withDevices = config("-kernel", "snapshot", "-device", "pc-testdev", "-device", "pci-testdev");
        Path file = dir.resolve("testdev.snap");
        try (Machine m = Machine.create(withDevices)) {
            m.start();
            await(m, "snap ready.*");
            Snapshot s = m.snapshot();
            command(m, "o", "snap overwritten");
            m.restore(s);
            assertEquals("snap pattern intact", command(m, "c", "snap pattern .*"));
            s.save(file);
        }
        try (Machine m = Machine.create(withDevices, Snapshot.load(file))) {
            m.start();
            assertEquals("snap pattern intact", command(m, "c", "snap pattern .*"));
        }
        assertOneLine("the snapshot is of another machine: -device pc-testdev,pci-testdev in the snapshot, no -device here",
                () -> Machine.create(config("-kernel", "snapshot"), Snapshot.load(file)));
    }

    /** What Main printed to stderr after the CPU model warnings every machine on this host gets. */
    private static String lastLine(java.io.ByteArrayOutputStream err) {
        String[] lines = err.toString().split("\n");
        return lines[lines.length - 1] + "\n";
    }

    private static void assertOneLine(String start, org.junit.jupiter.api.function.Executable e) {
        JkvmException x = assertThrows(JkvmException.class, e);
        assertTrue(x.getMessage().startsWith(start), x.getMessage());
        assertFalse(x.getMessage().contains("\n"), x.getMessage());
    }
}
