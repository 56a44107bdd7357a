package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.boot.KernelImage;
import dev.jkvm.vmm.host.KvmModule;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.monitor.StallDump;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

/**
 * Debian's stock cloud kernel under jkvm, with the busybox initramfs {@code scripts/debian-kernel}
 * builds (fetched and cached, never committed): the kernel's own log must show the command line,
 * jkvm's memory layout as its e820 map, jkvm's ACPI tables, and then what the KVM it runs on can
 * do: on {@code kvm_amd} or {@code kvm_intel} (also inside scripts/in-vm) its init's marker line
 * with two CPUs; elsewhere (kvm_pvm, whose instruction emulator stops at {@code lock cmpxchg16b})
 * that, or jkvm's emulation-failure report. A boot whose serial output stops for a minute while it
 * runs fails as a stall, and one whose kernel panics as a panic, with every vCPU's state ({@link StallWatch}); inside scripts/in-vm on one
 * TCG thread, where QEMU itself stalls, only after three stalled tries, each reported. It boots the kernel's PVH
 * entry (the uncompressed ELF inside the package): the bzImage's decompressor alone takes minutes
 * in such an emulator.
 */
@RequiresKvm
@Tag("linux-smp")
class DebianKernelTest {

    private static final Duration LIMIT = Duration.ofSeconds(300);
    private static Path vmlinux;
    private static Path initrd;
    private static Path genericVmlinux;
    private static Path genericInitrd;

    @BeforeAll
    static void fetch() throws IOException, InterruptedException {
        List<Path> cloud = debianKernel("--vmlinux");
        vmlinux = cloud.get(0);
        initrd = cloud.get(1);
        List<Path> generic = debianKernel("--vmlinux", "--generic");
        genericVmlinux = generic.get(0);
        genericInitrd = generic.get(1);
    }

    /** Runs scripts/debian-kernel; returns the kernel and initrd paths it prints. */
    private static List<Path> debianKernel(String... options) throws IOException, InterruptedException {
        Path script = null;
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (dir.resolve("scripts/debian-kernel").toFile().canExecute()) {
                script = dir.resolve("scripts/debian-kernel");
                break;
            }
        }
        assertTrue(script != null, "scripts/debian-kernel not found above " + Path.of("").toAbsolutePath());
        List<String> cmd = new ArrayList<>(List.of(script.toString()));
        cmd.addAll(List.of(options));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0, "scripts/debian-kernel " + cmd + ": " + out);
        List<String> paths = out.lines().toList();
        return List.of(Path.of(paths.get(paths.size() - 2)), Path.of(paths.get(paths.size() - 1)));
    }

    /** Runs the kernel; returns the result, with how long the first line and the end took, and a stall if one was seen. */
    private record Boot(RunResult result, Machine machine, long firstLineMillis, long endMillis, int cpus,
                        Optional<StallWatch.Stall> stall, long longestSilenceMillis, long unwatchedMillis, Optional<String> panicDump) {
        String log() {
            return result.serial();
        }
    }

    /**
     * The KVM module the guest runs on: {@code kvm_amd} or {@code kvm_intel} run a stock kernel to
     * its init (also inside scripts/in-vm, whose QEMU emulates SVM); others (this project's
     * kvm_pvm host) run it in KVM's instruction emulator, which gives up on the way.
     */
    private static final String KVM_MODULE = KvmModule.detect().module();
    private static final boolean RUNS_TO_INIT = KVM_MODULE.equals("kvm_amd") || KVM_MODULE.equals("kvm_intel");
    private static final int CPUS = 2;
    /**
     * Serial silence that counts as a stall: a minute where the kernel runs to init (the whole boot
     * takes 8-9 s in the nested VM); where KVM's emulator runs every instruction (kvm_pvm) a quiet
     * phase of the boot lasts minutes, so only a silence near the whole limit counts there.
     */
    private static final Duration QUIET = RUNS_TO_INIT ? Duration.ofSeconds(60) : Duration.ofSeconds(240);
    /** Linux's first line of a panic, and its last. */
    private static final String PANIC = "Kernel panic - not syncing";
    private static final String PANIC_END = "---[ end Kernel panic";
    /** After a stall's dump (which kicks every vCPU once), how long the guest gets to go on before it is stopped. */
    private static final Duration AFTER_DUMP = Duration.ofSeconds(10);
    /**
     * Boots a stall may cost before the test fails as a stall. Inside scripts/in-vm with one TCG
     * thread for both vCPUs (its default), Linux's SMP boot stalls under QEMU with KVM as well, in
     * the same VM and at the same stages (scripts/test/debian-smp-compare: jkvm 3 of 3, QEMU 2 of 3
     * on a quiet host), always the same way: a vCPU spins in an interrupt handler on a lock the
     * context it interrupted holds with interrupts off, so that interrupt came in while IF was 0.
     * With a TCG thread per vCPU both boot to init (jkvm 3 of 3, QEMU 3 of 3): the fault is
     * single-threaded TCG's, and ./test runs this class (tag {@code linux-smp}) in a VM of its own
     * with multi-threaded TCG. Where one thread runs both vCPUs, three tries, each stall reported
     * with its dump and counted; elsewhere a stall fails at once.
     */
    private static final int TRIES = System.getenv("JKVM_IN_VM") != null
            && !"multi".equals(System.getenv("JKVM_IN_VM_TCG_THREAD")) ? 3 : 1;

    /** Boots until a try does not stall (at most {@link #TRIES}); each stalled try is reported with its dump. */
    private static Boot bootReporting(TestReporter reporter, Path kernel, Path ramdisk, String append, Duration powerOffWait) {
        for (int attempt = 1; ; attempt++) {
            Boot b = boot(kernel, ramdisk, append, CPUS, powerOffWait, LIMIT);
            if (b.stall().isPresent() && b.stall().get().resumedAfterDump()) {
                // A silence that ended (after the dump's kicks, or a starved VM catching up) is
                // reported with its dump; the boot went on, and is judged by how it ended.
                String what = "debian kernel on " + KVM_MODULE + ", boot " + attempt + ": " + b.stall().get().describe();
                System.out.println(what);
                reporter.publishEntry("silence " + attempt, what);
                b = new Boot(b.result(), b.machine(), b.firstLineMillis(), b.endMillis(), b.cpus(), Optional.empty(),
                        b.longestSilenceMillis(), b.unwatchedMillis(), b.panicDump());
            }
            if (b.stall().isEmpty() || attempt == TRIES) {
                if (attempt > 1) {
                    String what = String.format("debian kernel on %s: %d of %d boots stalled before this one (%s)", KVM_MODULE,
                            attempt - 1, attempt, b.stall().isEmpty() ? "it did not" : "it stalled too");
                    System.out.println(what);
                    reporter.publishEntry("stalls", what);
                }
                return b;
            }
            String what = "debian kernel on " + KVM_MODULE + ", boot " + attempt + " of at most " + TRIES + ": "
                    + b.stall().get().describe() + "\nserial:\n" + b.result().serialTail(15);
            System.out.println(what);
            reporter.publishEntry("stall " + attempt, what);
        }
    }

    /**
     * Boots {@code kernel} for at most {@code limit}; once its init has spoken, the guest gets
     * {@code powerOffWait} to end by itself (ACPI S5) before it is stopped. A stall (no output for
     * {@link #QUIET}) is dumped, and the guest gets {@link #AFTER_DUMP} more to go on.
     */
    private static Boot boot(Path kernel, Path ramdisk, String append, int cpus, Duration powerOffWait, Duration limit) {
        long start = System.nanoTime();
        long deadline = start + limit.toNanos();
        Machine m = DevicesGuestTest.machine("-kernel", kernel.toString(), "-initrd", ramdisk.toString(), "-smp", Integer.toString(cpus),
                "-m", "512M", "-append", "console=ttyS0 earlyprintk=serial " + append);
        try (m) {
            m.start();
            StallWatch watch = new StallWatch(m, QUIET);
            String panicDump = null;
            long first = -1;
            try {
                // Until the guest ends, or its init has said what it booted with: then it gets
                // powerOffWait to power off by itself (ACPI S5), and is stopped otherwise.
                long giveUp = deadline; // after a dump: AFTER_DUMP more, unless the output resumes
                while (!m.ended() && System.nanoTime() < giveUp && !initDone(m.serial().transcript())
                        && !m.serial().transcript().contains(PANIC)) {
                    if (first < 0 && m.serial().transcript().contains("Linux version")) {
                        first = (System.nanoTime() - start) / 1_000_000;
                    }
                    boolean dumped = watch.stall().isPresent();
                    watch.poll();
                    if (!dumped && watch.stall().isPresent()) {
                        giveUp = Math.min(deadline, System.nanoTime() + AFTER_DUMP.toNanos());
                    } else if (watch.stall().isPresent() && watch.stall().get().resumedAfterDump()) {
                        giveUp = deadline;
                    }
                    Thread.sleep(200);
                }
                if (m.serial().transcript().contains(PANIC)) {
                    // the rest of the panic's lines, then the vCPUs as they are: a panic fails as a panic
                    long end = Math.min(deadline, System.nanoTime() + AFTER_DUMP.toNanos());
                    while (!m.ended() && System.nanoTime() < end && !m.serial().transcript().contains(PANIC_END)) {
                        Thread.sleep(200);
                    }
                    panicDump = StallDump.of(m, Duration.ofSeconds(1));
                    powerOffWait = Duration.ZERO;
                }
                long powerOff = System.nanoTime() + powerOffWait.toNanos();
                while (!m.ended() && System.nanoTime() < Math.min(deadline, powerOff)) {
                    Thread.sleep(200);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            RunResult r = m.run(Duration.ofMillis(1)); // ended: its result; else stopped now, as a timeout
            return new Boot(r, m, first, (System.nanoTime() - start) / 1_000_000, cpus, watch.stall(), watch.longestSilenceMillis(),
                    watch.longestUnwatchedMillis(), Optional.ofNullable(panicDump));
        }
    }

    /**
     * The init's marker line, then the three lines it prints after it (uname -r, the command line,
     * nproc), each ended: a last line counted before its newline came failed the nproc check.
     */
    private static boolean initDone(String log) {
        int at = log.indexOf("JKVM-INIT-OK");
        return at >= 0 && log.substring(at).chars().filter(c -> c == '\n').count() >= 4;
    }

    /**
     * A panic fails as a panic and a stall as a stall, each with the vCPUs' dump, before anything
     * looks for lines such a log cannot have (a panic that then spun silently was reported as a stall).
     */
    private static void assertNotStalled(Boot b) {
        b.panicDump().ifPresent(dump -> fail("debian kernel on " + KVM_MODULE + ": the guest kernel panicked: \""
                + b.log().lines().filter(l -> l.contains(PANIC)).findFirst().orElse("").strip() + "\"\nserial:\n"
                + b.result().serialTail(60) + "\n" + dump));
        b.stall().ifPresent(s -> fail("debian kernel on " + KVM_MODULE + ": "
                + (b.log().contains("JKVM-INIT-OK") ? "the boot reached init, but only after a " : "") + s.describe()
                + "\nserial:\n" + b.result().serialTail(40)));
    }

    /**
     * On kvm_amd/kvm_intel: the init's marker with the CPU count (and the power-off when asked).
     * Elsewhere: that, or jkvm's report of KVM's emulation failure. A stall fails as a stall, with
     * the vCPUs' dump, whichever KVM it is.
     */
    private static void assertEndedAsThisKvmCan(Boot b, boolean powerOffExpected) {
        RunResult r = b.result();
        String on = " on " + KVM_MODULE;
        if (b.log().contains("JKVM-INIT-OK")) {
            assertTrue(b.log().matches("(?s).*JKVM-INIT-OK.*\\n" + b.cpus() + "\\r?\\n.*"),
                    "nproc " + b.cpus() + " after the marker:\n" + r.serialTail(10));
            // A silence past QUIET with no stall: the watcher was not scheduled for it (a frozen JVM or VM).
            System.out.printf("debian kernel%s: first line after %d ms, init marker, run ended %s after %d ms (longest serial silence %d ms,"
                    + " longest gap between the stall watch's looks %d ms)%n",
                    on, b.firstLineMillis(), r.reason(), b.endMillis(), b.longestSilenceMillis(), b.unwatchedMillis());
            if (powerOffExpected) {
                // `poweroff -f` in the init: Linux writes S5 to jkvm's PM1a_CNT, jkvm ends with status 0.
                assertEquals(RunResult.Reason.POWER_OFF, r.reason(), r.message() + "\n" + r.serialTail(10));
                assertEquals(0, r.exitStatus());
            }
            return;
        }
        if (RUNS_TO_INIT) {
            fail("debian kernel" + on + " did not reach its init: " + r.reason() + " (" + r.message() + ")\n" + r.serialTail(40)
                    + r.report().map(x -> "\n" + x.format()).orElse(""));
        }
        // KVM could not run the kernel to user space: jkvm must say so, not hang.
        assertEquals(RunResult.Reason.INTERNAL_ERROR, r.reason(), r.message() + "\n" + r.serialTail(20));
        String report = r.report().orElseThrow().format();
        assertTrue(report.contains("emulation failure") && report.contains("code at "), report);
        System.out.printf("debian kernel%s: first line after %d ms; KVM's emulator failed after %d ms (%s; longest serial silence %d ms)%n",
                on, b.firstLineMillis(), b.endMillis(), report.lines().filter(l -> l.contains("code at")).findFirst().orElse(""),
                b.longestSilenceMillis());
    }

    @Test
    void itsLogShowsTheCommandLineTheLayoutAndTheAcpiTables(TestReporter reporter) {
        Boot b = bootReporting(reporter, vmlinux, initrd, "jkvm.test=1", Duration.ofSeconds(60));
        assertNotStalled(b);
        String log = b.log();
        assertTrue(log.contains("Linux version 6."), log);
        assertTrue(log.contains("Command line: console=ttyS0 earlyprintk=serial jkvm.test=1"), log);
        // The e820 map the kernel prints is jkvm's layout, entry for entry.
        List<E820.Entry> seen = new ArrayList<>();
        Matcher e = Pattern.compile("BIOS-e820: \\[mem 0x(\\p{XDigit}+)-0x(\\p{XDigit}+)\\] (usable|reserved|ACPI data)")
                .matcher(log);
        while (e.find()) {
            long from = Long.parseUnsignedLong(e.group(1), 16);
            long to = Long.parseUnsignedLong(e.group(2), 16);
            int type = switch (e.group(3)) {
                case "usable" -> E820.RAM;
                case "ACPI data" -> E820.ACPI;
                default -> E820.RESERVED;
            };
            seen.add(new E820.Entry(from, to - from + 1, type));
        }
        assertEquals(asLinuxPrintsIt(b.machine().e820().entries()), seen, log);
        // jkvm's ACPI tables, found and used, without complaint.
        for (String table : List.of("ACPI: RSDP 0x000000000009FC10", "ACPI: XSDT", "ACPI: FACP", "ACPI: DSDT", "ACPI: FACS",
                "ACPI: APIC", "ACPI: PM-Timer IO Port: 0x608", "ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)",
                "ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)",
                "ACPI: Using ACPI (MADT) for SMP configuration information", "smpboot: Allowing " + CPUS + " CPUs")) {
            assertTrue(log.contains(table), table + " in:\n" + log);
        }
        assertFalse(Pattern.compile("ACPI (BIOS )?(Error|Warning)").matcher(log).find(), log);
        assertEndedAsThisKvmCan(b, true);
    }

    /**
     * The generic kernel (the cloud one has no MP-table parser: "MPS support code is not built-in")
     * finds both CPUs through jkvm's MP table when ACPI is off.
     */
    @Test
    void withAcpiOffTheGenericKernelFindsTheMpTable(TestReporter reporter) {
        // without ACPI, Linux has no way to power off: stopped right after its init has spoken
        Boot b = bootReporting(reporter, genericVmlinux, genericInitrd, "acpi=off", Duration.ZERO);
        assertNotStalled(b);
        String log = b.log();
        for (String line : List.of("found SMP MP-table at [mem 0x0009fc00-0x0009fc0f]", "Intel MultiProcessor Specification v1.4",
                "MPTABLE: OEM ID: JKVM", "MPTABLE: APIC at: 0xFEE00000", "Processor #0 (Bootup-CPU)", "Processor #1",
                "IOAPIC[0]: apic_id 0, version 17, address 0xfec00000, GSI 0-23", "Processors: 2",
                "smpboot: Allowing 2 CPUs")) {
            assertTrue(log.contains(line), line + " in:\n" + log);
        }
        assertEndedAsThisKvmCan(b, false); // without ACPI, Linux has no way to power off
    }

    /**
     * jkvm's map as Linux prints it: entered through PVH, the kernel reserves the ISA hole
     * (0xA0000-0x100000) itself, and it prints neighbouring entries of one type as one.
     */
    private static List<E820.Entry> asLinuxPrintsIt(List<E820.Entry> entries) {
        List<E820.Entry> all = new ArrayList<>(entries);
        all.add(E820.Entry.reserved(0xa0000, 0x50000));
        all.sort(java.util.Comparator.comparingLong(E820.Entry::base));
        List<E820.Entry> out = new ArrayList<>();
        for (E820.Entry x : all) {
            if (!out.isEmpty() && out.getLast().type() == x.type() && out.getLast().end() >= x.base()) {
                E820.Entry last = out.removeLast();
                out.add(new E820.Entry(last.base(), Math.max(last.end(), x.end()) - last.base(), x.type()));
            } else {
                out.add(x);
            }
        }
        return out;
    }

    /**
     * A guest that panics fails as a panic, with the vCPUs' dump, at once: one that panicked in the
     * nested VM (a double fault in the acpi=off boot) was reported as a 60 s stall. The "panic"
     * here is the meminfo kernel printing its command line, which holds Linux's panic lines, and
     * then waiting: any KVM runs it, and in seconds.
     */
    @Test
    void aPanicFailsAsAPanicWithTheDump() {
        try (KernelImage image = KernelImage.resolve("meminfo")) {
            assertTrue(image.temporary(), "meminfo is not bundled");
            assertAPanicIsReported(image.path());
        }
    }

    private static void assertAPanicIsReported(Path meminfo) {
        Boot b = boot(meminfo, meminfo, "wait=60 " + PANIC + ": fake " + PANIC_END + " ]---", 1, Duration.ofSeconds(60), LIMIT);
        assertTrue(b.panicDump().isPresent(), b.log());
        assertEquals(RunResult.Reason.TIMEOUT, b.result().reason(), "stopped once it panicked, not at its end: " + b.result().message());
        AssertionError e = assertThrows(AssertionError.class, () -> assertNotStalled(b));
        assertTrue(e.getMessage().startsWith("debian kernel on " + KVM_MODULE + ": the guest kernel panicked: \"cmdline "),
                e.getMessage());
        assertTrue(e.getMessage().contains("-- info registers -a --"), e.getMessage());
    }
}
