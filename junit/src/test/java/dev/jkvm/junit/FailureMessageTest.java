package dev.jkvm.junit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/** A failing guest test says how the guest ended and what it printed last. */
@RequiresKvm
class FailureMessageTest {

    @Test
    void failuresCarryTheEndAndTheSerialTail() {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(FailingGuestFixture.class)).execute()
                .testEvents().failed().stream()
                .forEach(e -> failure.set(e.getPayload(org.junit.platform.engine.TestExecutionResult.class)
                        .orElseThrow().getThrowable().orElseThrow()));
        String message = failure.get().getMessage();
        assertTrue(message.contains("the guest ended: HALTED"), message);
        assertTrue(message.contains("Hello from the guest"), message);
        assertTrue(message.contains("-bios hello"), message);
    }
}
