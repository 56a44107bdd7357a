package dev.jkvm.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.jkvm.vmm.Machine;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code @Guest(bootUntil = ...)}: the class's guest boots once, until its ready line; every test
 * starts from a restore of that point, so what one test did to the guest is gone in the next.
 */
@Guest(kernel = "snapshot", bootUntil = "snap ready", timeout = "60s")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BootUntilTest {

    static String ask(Machine m, String command, String answer) throws InterruptedException {
        m.serial().send(command);
        return m.serial().awaitLine(Pattern.compile(answer), Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no " + answer + " in:\n" + m.serial().tail(10)));
    }

    @Test
    @Order(1)
    void theFirstCaseOverwritesThePattern(Machine m) throws InterruptedException {
        ask(m, "o", "snap overwritten");
        assertEquals("snap pattern lost mismatches=131072", ask(m, "c", "snap pattern .*"));
    }

    @Test
    @Order(2)
    void theNextCaseStartsFromTheSnapshotNotFromTheFirstCase(Machine m) throws InterruptedException {
        assertEquals("snap pattern intact", ask(m, "c", "snap pattern .*"));
        assertFalse(m.serial().transcript().contains("snap ready"), "restored, not booted: " + m.serial().transcript());
    }
}
