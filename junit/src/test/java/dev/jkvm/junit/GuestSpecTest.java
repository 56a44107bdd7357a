package dev.jkvm.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jkvm.vmm.JkvmException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An {@code @Guest} timeout is the test author's input: a bad one is a one-line JkvmException. */
class GuestSpecTest {

    @Test
    void timeoutsInTheirSpellings() {
        assertEquals(Duration.ofMillis(250), GuestSpec.parseDuration("250ms"));
        assertEquals(Duration.ofMillis(1500), GuestSpec.parseDuration("1.5s"));
        assertEquals(Duration.ofMinutes(2), GuestSpec.parseDuration("2m"));
    }

    @Test
    void aTimeoutThatIsNoDurationSaysSo() {
        JkvmException e = assertThrows(JkvmException.class, () -> GuestSpec.parseDuration("soon"));
        assertEquals("@Guest timeout 'soon': expected e.g. 500ms, 5s, 1m", e.getMessage());
    }
}
