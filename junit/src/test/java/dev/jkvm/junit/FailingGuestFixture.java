package dev.jkvm.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.vmm.RunResult;
import org.junit.jupiter.api.Test;

/** Meant to fail: run by {@link FailureMessageTest} through the engine test kit. */
class FailingGuestFixture {

    @Test
    @Guest(bios = "hello")
    void expectsTheWrongGreeting(RunResult r) {
        assertEquals("Goodbye", r.serial().strip());
    }
}
