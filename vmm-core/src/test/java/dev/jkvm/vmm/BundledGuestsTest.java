package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.vcpu.ExitReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The bundled ROM guests on the real /dev/kvm: what they print and how they end. */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // counts threads, descriptors, memory or time
class BundledGuestsTest {

    private static MachineConfig rom(String name) {
        return MachineConfig.builder().firmware(BiosRom.bundled(name)).serial(SerialBackend.none())
                .timeout(Duration.ofSeconds(30)).build();
    }

    @Test
    void helloPrintsItsGreetingAndHalts() {
        try (Machine m = Machine.create(rom("hello"))) {
            RunResult r = m.run();
            assertEquals(RunResult.Reason.HALTED, r.reason(), r.message());
            assertEquals(0, r.exitStatus());
            assertEquals("Hello from the guest\r\n", m.serial().transcript());
        }
    }

    @Test
    void aRomHasNoSymbolsAndAskingForOneSaysWhy() {
        try (Machine m = Machine.create(rom("hello"))) {
            assertEquals(0, m.symbols().size());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.readSymbolValue("kmain"));
            assertEquals("no symbol kmain: the machine has no -kernel", e.getMessage());
        }
    }

    @Test
    void debugExitEndsWithQemusStatus() {
        try (Machine m = Machine.create(rom("debug-exit"))) {
            RunResult r = m.run();
            assertEquals(RunResult.Reason.DEBUG_EXIT, r.reason());
            assertEquals((0x2a << 1) | 1, r.exitStatus());
        }
    }

    @Test
    void aTripleFaultIsReportedWithRegistersAndCode() {
        try (Machine m = Machine.create(rom("triple-fault"))) {
            RunResult r = m.run();
            assertEquals(RunResult.Reason.TRIPLE_FAULT, r.reason());
            assertEquals(RunResult.CRASH_STATUS, r.exitStatus());
            ExitReport report = r.report().orElseThrow();
            String text = report.format();
            assertTrue(text.contains("triple fault (KVM_EXIT_SHUTDOWN)"), text);
            assertTrue(text.contains("RIP="), text);
            if (text.contains("KVM reset this vCPU before reporting the shutdown")) {
                // AMD SVM: the report can only show the reset state (the reset vector's far jump)
                assertTrue(text.matches("(?s).*RIP=000000000000fff0.*code at [0-9a-f]*fff0: ea .*"), text);
            } else {
                assertTrue(text.matches("(?s).*code at [0-9a-f]+: 0f 0b.*"), text); // the ud2 that started it
            }
        }
    }

    @Test
    void theCliBootsHelloAndExitsZero() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"-serial", "none"}, new PrintStream(out), new PrintStream(err));
        String errors = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, errors);
        // Nothing on stderr but QEMU's own CPUID warnings (bits this host's KVM lacks: QEMU prints
        // them too, one short line each); nothing about KVM replacing the default model's bits,
        // which the user did not ask for.
        assertTrue(errors.lines().allMatch(l -> l.startsWith("jkvm: warning: host doesn't support requested feature")
                && l.length() <= 120), errors);
        assertTrue(errors.lines().count() <= 2, errors);
    }

    @Test
    void closingARunningMachineReleasesEverything() throws Exception {
        VcpuThreadsTest.awaitReleased();
        long fdsBefore = openFds();
        for (int i = 0; i < 20; i++) {
            try (Machine m = Machine.create(rom("hello"))) {
                m.start();
            }
        }
        VcpuThreadsTest.awaitReleased();
        assertEquals(fdsBefore, openFds());
    }

    static long openFds() throws java.io.IOException {
        try (var s = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
