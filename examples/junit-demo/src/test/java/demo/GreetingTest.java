package demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.junit.Guest;
import dev.jkvm.vmm.RunResult;
import org.junit.jupiter.api.Test;

class GreetingTest {

    /** The bundled cpuinfo kernel brings both vCPUs up, prints one line per CPU and exits with 0x10. */
    @Test
    @Guest(kernel = "cpuinfo", smp = "2", timeout = "60s")
    void bothCpusComeUp(RunResult r) {
        assertEquals(0x10, r.debugExitValue());
        assertEquals(2, r.serial().lines().filter(l -> l.startsWith("cpu apic=")).count());
    }

    /** A ROM by name: what it printed, and the value it wrote to the debug-exit port. */
    @Test
    @Guest(bios = "debug-exit", timeout = "10s")
    void theRomExitsWith42(RunResult r) {
        assertEquals(0x2a, r.debugExitValue());
        assertEquals("exiting with 0x2a\r\n", r.serial());
    }
}
