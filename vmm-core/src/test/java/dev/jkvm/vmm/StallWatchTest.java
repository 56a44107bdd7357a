package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The stall dump on a guest that goes silent: the spin ROM prints one line, then loops with
 * interrupts off on the BSP while the AP waits for its INIT/SIPI.
 */
@RequiresKvm
class StallWatchTest {

    @Test
    void aSilentGuestIsDumpedOnceWithEveryVcpusState() throws InterruptedException {
        try (Machine m = DevicesGuestTest.machine("-bios", "spin", "-smp", "2")) {
            m.start();
            assertTrue(m.serial().awaitLine(Pattern.compile("spinning"), Duration.ofSeconds(60)).isPresent(), m.serial().tail(5));
            StallWatch watch = new StallWatch(m, Duration.ofSeconds(2));
            long giveUp = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (watch.stall().isEmpty() && System.nanoTime() < giveUp) {
                watch.poll();
                Thread.sleep(100);
            }
            StallWatch.Stall s = watch.stall().orElseThrow(() -> new AssertionError("no stall seen in 120 s"));
            assertFalse(s.resumedAfterDump());
            String d = s.describe();
            assertTrue(s.silentMillis() >= 2000, d);
            for (String want : new String[] {"after \"spinning\"", "host: KVM module ", "CPU #0: thread_id=", "CPU #1: thread_id=",
                    "-- exits in 1000 ms --", "VM status: running", "(waiting for INIT/SIPI)", "CPU#0\nRAX=", "CPU#1\nRAX=",
                    "dumping local APIC state for CPU 0", "dumping local APIC state for CPU 1", "IRR\t ", "LVTT\t ",
                    "events: exception injected=0"}) {
                assertTrue(d.contains(want), want + " in:\n" + d);
            }
            // the BSP spins in the guest; the AP sleeps in KVM_RUN until a SIPI that never comes
            assertTrue(Pattern.compile("CPU #1: thread_id=\\d+ state=S in KVM_RUN").matcher(d).find(), d);
            assertTrue(d.contains("RFL=00000002"), d); // the spin loop runs with interrupts off
            watch.poll();
            assertTrue(watch.stall().orElseThrow() == s || watch.stall().orElseThrow().dump().equals(s.dump()), "dumped once");
        }
    }
}
