package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.memory.E820;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Debian's stock cloud kernel under jkvm, with the busybox initramfs {@code scripts/debian-kernel}
 * builds (fetched and cached, never committed): the kernel's own log must show the command line,
 * jkvm's memory layout as its e820 map, jkvm's ACPI tables, and then either its init's marker line
 * with two CPUs, or, on a host whose KVM cannot run a stock kernel to user space (kvm_pvm's
 * instruction emulator stops at {@code lock cmpxchg16b}), jkvm's emulation-failure report. It
 * boots the kernel's PVH entry (the uncompressed ELF inside the package): the bzImage's
 * decompressor alone takes minutes in such an emulator.
 */
@RequiresKvm
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

    /** Runs the kernel; returns the result, with how long the first line and the end took. */
    private record Boot(RunResult result, Machine machine, long firstLineMillis, long endMillis, int cpus) {
        String log() {
            return result.serial();
        }
    }

    /**
     * CPUs for the cloud kernel: 2, except inside scripts/in-vm, whose KVM runs under QEMU's
     * software SVM: there an SMP Linux guest was seen to hang while bringing up its second CPU (or
     * with RCU stalls on it), while the same boot on this project's kvm_pvm host and the acpi=off
     * boot below bring up both. The nested VM checks the ACPI path with one CPU.
     */
    private static final boolean NESTED = System.getenv("JKVM_IN_VM") != null;
    private static final int CPUS = NESTED ? 1 : 2;
    /** A first try in the nested VM: the whole boot takes 8-9 s there. */
    private static final Duration NESTED_FIRST_TRY = Duration.ofSeconds(90);

    /**
     * The cloud kernel with ACPI. In the nested VM, whose KVM runs under QEMU's software SVM, this
     * boot was once seen (in one of three runs, with the host busy) to stall for good right after
     * "clocksource: Switched to clocksource kvm-clock"; there a stalled first try is said and
     * retried once. On this project's hosts with KVM there is no retry.
     */
    private static Boot boot(String append) {
        if (NESTED) {
            Boot first = boot(vmlinux, initrd, append, CPUS, Duration.ofSeconds(60), NESTED_FIRST_TRY);
            if (first.result().reason() != RunResult.Reason.TIMEOUT || first.log().contains("JKVM-INIT-OK")) {
                return first;
            }
            System.out.printf("debian kernel: the first try stalled in the nested VM after \"%s\"; trying once more%n",
                    first.log().lines().reduce((a, b) -> b).orElse("").strip());
        }
        return boot(vmlinux, initrd, append, CPUS, Duration.ofSeconds(60), LIMIT);
    }

    /**
     * Boots {@code kernel} for at most {@code limit}; once its init has spoken, the guest gets
     * {@code powerOffWait} to end by itself (ACPI S5) before it is stopped.
     */
    private static Boot boot(Path kernel, Path ramdisk, String append, int cpus, Duration powerOffWait, Duration limit) {
        long start = System.nanoTime();
        long deadline = start + limit.toNanos();
        Machine m = DevicesGuestTest.machine("-kernel", kernel.toString(), "-initrd", ramdisk.toString(), "-smp", Integer.toString(cpus),
                "-m", "512M", "-append", "console=ttyS0 earlyprintk=serial " + append);
        try (m) {
            m.start();
            long first = -1;
            try {
                if (m.serial().awaitLine(Pattern.compile(".*Linux version.*"), limit).isPresent()) {
                    first = (System.nanoTime() - start) / 1_000_000;
                }
                // Until the guest ends, or its init has said what it booted with: then it gets
                // powerOffWait to power off by itself (ACPI S5), and is stopped otherwise.
                while (!m.ended() && System.nanoTime() < deadline && !initDone(m.serial().transcript())) {
                    Thread.sleep(200);
                }
                long powerOff = System.nanoTime() + powerOffWait.toNanos();
                while (!m.ended() && System.nanoTime() < Math.min(deadline, powerOff)) {
                    Thread.sleep(200);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            RunResult r = m.run(Duration.ofMillis(1)); // ended: its result; else stopped now, as a timeout
            return new Boot(r, m, first, (System.nanoTime() - start) / 1_000_000, cpus);
        }
    }

    /** The init's marker line, then the three lines it prints after it (uname -r, the command line, nproc). */
    private static boolean initDone(String log) {
        int at = log.indexOf("JKVM-INIT-OK");
        return at >= 0 && log.substring(at).lines().count() >= 4;
    }

    private static void assertEndedWellOrAtTheEmulatorsLimit(Boot b, boolean powerOffExpected) {
        RunResult r = b.result();
        if (b.log().contains("JKVM-INIT-OK")) {
            assertTrue(b.log().matches("(?s).*JKVM-INIT-OK.*\\n" + b.cpus() + "\\r?\\n.*"),
                    "nproc " + b.cpus() + " after the marker:\n" + r.serialTail(10));
            System.out.printf("debian kernel: first line after %d ms, init marker, run ended %s after %d ms%n",
                    b.firstLineMillis(), r.reason(), b.endMillis());
            if (powerOffExpected) {
                // `poweroff -f` in the init: Linux writes S5 to jkvm's PM1a_CNT, jkvm ends with status 0.
                assertEquals(RunResult.Reason.POWER_OFF, r.reason(), r.message() + "\n" + r.serialTail(10));
                assertEquals(0, r.exitStatus());
            }
            return;
        }
        // This host's KVM could not run the kernel to user space: jkvm must say so, not hang.
        assertEquals(RunResult.Reason.INTERNAL_ERROR, r.reason(), r.message() + "\n" + r.serialTail(20));
        String report = r.report().orElseThrow().format();
        assertTrue(report.contains("emulation failure") && report.contains("code at "), report);
        System.out.printf("debian kernel: first line after %d ms; KVM's emulator failed after %d ms (%s)%n",
                b.firstLineMillis(), b.endMillis(), report.lines().filter(l -> l.contains("code at")).findFirst().orElse(""));
    }

    @Test
    void itsLogShowsTheCommandLineTheLayoutAndTheAcpiTables() {
        Boot b = boot("jkvm.test=1");
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
        assertEndedWellOrAtTheEmulatorsLimit(b, true);
    }

    /**
     * The generic kernel (the cloud one has no MP-table parser: "MPS support code is not built-in")
     * finds both CPUs through jkvm's MP table when ACPI is off.
     */
    @Test
    void withAcpiOffTheGenericKernelFindsTheMpTable() {
        // without ACPI, Linux has no way to power off: stopped right after its init has spoken
        Boot b = boot(genericVmlinux, genericInitrd, "acpi=off", 2, Duration.ZERO, LIMIT);
        String log = b.log();
        for (String line : List.of("found SMP MP-table at [mem 0x0009fc00-0x0009fc0f]", "Intel MultiProcessor Specification v1.4",
                "MPTABLE: OEM ID: JKVM", "MPTABLE: APIC at: 0xFEE00000", "Processor #0 (Bootup-CPU)", "Processor #1",
                "IOAPIC[0]: apic_id 0, version 17, address 0xfec00000, GSI 0-23", "Processors: 2",
                "smpboot: Allowing 2 CPUs")) {
            assertTrue(log.contains(line), line + " in:\n" + log);
        }
        assertEndedWellOrAtTheEmulatorsLimit(b, false); // without ACPI, Linux has no way to power off
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
}
