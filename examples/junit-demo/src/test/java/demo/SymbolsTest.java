package demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.junit.Guest;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.RunResult;
import org.junit.jupiter.api.Test;

class SymbolsTest {

    /** The machine after its run: a variable of the guest kernel read by its symbol name. */
    @Test
    @Guest(kernel = "cpuinfo", smp = "4", timeout = "60s")
    void everyApplicationProcessorCheckedIn(Machine m, RunResult r) {  // r: m run to its end
        assertEquals(0x10, r.debugExitValue());
        assertEquals(3, m.readSymbolValue("ap_finished"));              // the guest's own counter
    }
}
