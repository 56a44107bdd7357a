package dev.jkvm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two sides of every comparison run the same guest the same way: bench-exits.rom on jkvm, on
 * the C baseline and on the bindings loop exits to the VMM once per iteration (plus the final
 * debug-exit write) and finishes with its results written. Counts only, never timings.
 */
@RequiresKvm
class SameGuestTest {

    private static final int N = 200;
    /** The C baseline, from the module (Maven) or the checkout's top (the nested runner). */
    private static final Path C_BINARY = java.nio.file.Files.exists(Path.of("target/bench-vmm"))
            ? Path.of("target/bench-vmm") : Path.of("benchmarks/target/bench-vmm");

    @TempDir
    Path dir;

    @Test
    void everyExitCaseReachesTheVmmOncePerIterationOnBothSides() {
        Path rom = BenchGuest.extract("bench-exits", dir);
        CBaseline c = new CBaseline(C_BINARY);
        for (int kase : new int[] {BenchGuest.PORT_OUT, BenchGuest.PORT_IN, BenchGuest.MMIO_WRITE, BenchGuest.MMIO_READ}) {
            ExitRun j = JkvmExits.run(rom, kase, N, false);
            ExitRun cr = c.exits(rom, kase, N, false);
            assertEquals(N + 1, cr.exits(), "C, case " + kase);
            assertTrue(j.exits() >= N + 1 && j.exits() <= N + 2, "jkvm, case " + kase + ": " + j.exits());
            assertTrue(j.cycles() > 0 && cr.cycles() > 0);
        }
        assertEquals(N + 1, BindingsLoop.run(rom, BenchGuest.HLT, N).exits());
        assertEquals(N + 1, c.exits(rom, BenchGuest.HLT, N, false).exits());
    }

    @Test
    void inKernelCasesNeverReachTheVmm() {
        Path rom = BenchGuest.extract("bench-exits", dir);
        CBaseline c = new CBaseline(C_BINARY);
        assertEquals(1, c.exits(rom, BenchGuest.CPUID, N, false).exits());
        assertEquals(1, c.exits(rom, BenchGuest.PIT_IN, N, true).exits());
        assertTrue(JkvmExits.run(rom, BenchGuest.PIT_IN, N, true).exits() <= 2);
    }

    @Test
    void theLifecycleGuestHaltsAtOnce() {
        Path rom = BenchGuest.extract("bench-exits", dir);
        assertTrue(JkvmLifecycle.vmNanos(rom, 2) > 0);
        assertTrue(new CBaseline(C_BINARY).lifecycleNanos(rom, 2, JkvmExits.MEMORY) > 0);
    }

    @Test
    void everyVcpuOfTheSmpGuestMakesProgress() {
        Path rom = BenchGuest.extract("bench-smp", dir);
        // Inside scripts/in-vm the APs may not have started after 100 ms of warm-up (seen at load 5-17): seconds there.
        boolean inVm = System.getenv("JKVM_IN_VM") != null;
        double perSecond = Overcommit.oneGuest(rom, 3, java.time.Duration.ofMillis(inVm ? 2000 : 200),
                java.time.Duration.ofMillis(inVm ? 5000 : 100));
        assertTrue(perSecond > 0, "the three vCPUs counted " + perSecond + " a second");
        try (dev.jkvm.vmm.Machine m = dev.jkvm.vmm.Machine.create(Overcommit.config(rom, 3))) {
            m.start();
            // Until every vCPU has counted (a "does not hang" bound, not a time limit: inside
            // scripts/in-vm at a host load of 20 the APs took longer than the 300 ms once slept here).
            long giveUp = System.nanoTime() + java.time.Duration.ofSeconds(120).toNanos();
            int[] progress = new int[3];
            do {
                JkvmExits.sleep(50);
                byte[] b = m.readPhysical(BenchGuest.SMP_PROGRESS, 3 * BenchGuest.SMP_STRIDE);
                for (int i = 0; i < 3; i++) {
                    progress[i] = BenchGuest.le32(java.util.Arrays.copyOfRange(b, i * BenchGuest.SMP_STRIDE, i * BenchGuest.SMP_STRIDE + 4));
                }
            } while ((progress[0] == 0 || progress[1] == 0 || progress[2] == 0) && System.nanoTime() < giveUp);
            for (int i = 0; i < 3; i++) {
                assertTrue(progress[i] != 0, "vCPU number " + i + " made no progress in 120 s: the APs did not start");
            }
        }
    }
}
