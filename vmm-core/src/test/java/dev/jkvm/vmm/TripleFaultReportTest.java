package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A guest that triple faults at once after every reset: its report is printed once, then what follows. */
@RequiresKvm
class TripleFaultReportTest {

    @Test
    void theReportIsPrintedOnceAndTheRepeatInOneLine() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"-bios", "triple-fault", "-serial", "none"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(RunResult.CRASH_STATUS, status, text);
        List<String> lines = text.lines().toList();
        assertEquals(1, lines.stream().filter(l -> l.contains("triple fault (KVM_EXIT_SHUTDOWN)")).count(), text);
        assertEquals(1, lines.stream().filter(l -> l.contains("code at ")).count(), text);
        int report = indexOf(lines, "triple fault (KVM_EXIT_SHUTDOWN)");
        int reset = indexOf(lines, "jkvm: resetting the machine after the triple fault");
        int again = indexOf(lines, "the same triple fault again right after the reset");
        assertTrue(report >= 0 && report < reset && reset < again, text);
        assertTrue(lines.get(again).endsWith("report above): the run ends"), text);
    }

    private static int indexOf(List<String> lines, String part) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(part)) {
                return i;
            }
        }
        return -1;
    }
}
