package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MainDebugTest {

    /** JKVM_DEBUG=startup times a run as it is: -d cpuid's lines would add their own cost to the table. */
    @Test
    void theStartupTableAloneAddsNoCpuidDetails() {
        assertFalse(Main.cpuidDebug(null));
        assertFalse(Main.cpuidDebug("startup"));
        assertTrue(Main.cpuidDebug("1"));
    }
}
