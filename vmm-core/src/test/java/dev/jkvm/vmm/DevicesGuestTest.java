package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The legacy devices as test kernels use them: the UART by interrupt, the PIT, the RTC, the four reset paths. */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // counts threads, descriptors, memory or time
class DevicesGuestTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    static Machine machine(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (!all.contains("-serial")) {
            all.addAll(List.of("-serial", "none")); // the machine keeps the transcript anyway
        }
        return Machine.create(((Invocation.Run) CommandLine.parse(all.toArray(String[]::new))).config());
    }

    private static String awaitLine(Machine m, String regex) throws InterruptedException {
        return m.serial().awaitLine(Pattern.compile(regex), WAIT)
                .orElseThrow(() -> new AssertionError("no line matching " + regex + " in:\n" + m.serial().tail(20)));
    }

    @Test
    void echoAnswersEachLineByInterrupt() throws InterruptedException {
        for (String via : List.of("pic", "ioapic")) {
            try (Machine m = machine("-kernel", "echo", "-append", "via=" + via)) {
                m.start();
                awaitLine(m, "echo ready");
                m.serial().send("hello jkvm\n");
                assertEquals("echo: HELLO JKVM", awaitLine(m, "echo: .*"));
                m.serial().send("second line\r");
                assertEquals("echo: SECOND LINE", awaitLine(m, "echo: .*"));
                m.serial().send("quit\n");
                RunResult r = m.run(WAIT);
                assertEquals(33, r.exitStatus(), r.serialTail(10));
            }
        }
    }

    @Test
    void aBurstLargerThanTheFifoLosesNothing() throws InterruptedException {
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            burst.append("line ").append(i).append(" abcdefghijklmnopqrstuvwxyz 0123456789\n"); // 20 x 43 bytes at once
        }
        try (Machine m = machine("-kernel", "echo")) {
            m.start();
            awaitLine(m, "echo ready");
            m.serial().send(burst.toString());
            for (int i = 0; i < 20; i++) {
                assertEquals("echo: LINE " + i + " ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789", awaitLine(m, "echo: .*"));
            }
        }
    }

    /**
     * Through the 8259 and through the I/O APIC pin the MP table names for IRQ0 (pin 2, as the
     * MADT's override says too): KVM's default routes would send the PIT to pin 0, where no
     * guest looks (issue #25: Linux's tick broadcast then never ticked).
     */
    @Test
    void thePitTicksAtItsRateAgainstTheRtcSecond() {
        for (String via : List.of("pic", "ioapic")) {
            try (Machine m = machine("-kernel", "ticks", "-append", "via=" + via)) {
                RunResult r = m.run(WAIT);
                assertEquals(33, r.exitStatus(), via + ": " + r.serialTail(10));
                if (via.equals("ioapic")) {
                    assertTrue(r.serial().contains("irq 0 via=ioapic ioapic=0xfec00000 pin=2 "), r.serial());
                }
                Matcher t = Pattern.compile("ticks irq0=(\\d+) seconds=2 hz=100 via=" + via).matcher(r.serial());
                assertTrue(t.find(), r.serial());
                int ticks = Integer.parseInt(t.group(1));
                // 200 expected; a generous range, since the host is noisy and the guest slow here.
                assertTrue(ticks >= 100 && ticks <= 300, via + ": ticks " + ticks);
            }
        }
    }

    @Test
    void theRtcShowsTheHostsTime() {
        try (Machine m = machine("-kernel", "rtc")) {
            LocalDateTime before = LocalDateTime.now(ZoneOffset.UTC).withNano(0);
            RunResult r = m.run(WAIT);
            LocalDateTime after = LocalDateTime.now(ZoneOffset.UTC);
            assertEquals(33, r.exitStatus(), r.serialTail(10));
            Matcher d = Pattern.compile("rtc (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)").matcher(r.serial());
            assertTrue(d.find(), r.serial());
            LocalDateTime guest = LocalDateTime.parse(d.group(1),
                    DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT));
            assertTrue(!guest.isBefore(before.minusSeconds(1)) && !guest.isAfter(after.plusSeconds(1)),
                    "guest " + guest + ", host between " + before + " and " + after);
        }
    }

    @Test
    void eachResetPathRestartsTheMachineKeepingCmos() {
        try (Machine m = machine("-kernel", "reboot")) {
            RunResult r = m.run(Duration.ofSeconds(120));
            assertEquals(33, r.exitStatus(), r.serialTail(20));
            String out = r.serial();
            for (String method : List.of("method=1 name=i8042", "method=2 name=port92", "method=3 name=cf9",
                    "method=4 name=triple")) {
                assertTrue(out.contains("reset " + method), method + " in\n" + out);
            }
            assertTrue(out.contains("boot 5") && out.contains("all resets done"), out);
            assertEquals(4, m.resets());
        }
    }

    @Test
    void noRebootEndsAtTheFirstReset() {
        try (Machine m = machine("-kernel", "reboot", "-no-reboot")) {
            RunResult r = m.run(WAIT);
            assertEquals(RunResult.Reason.RESET, r.reason(), r.message());
            assertEquals(0, r.exitStatus());
            assertTrue(r.serial().contains("boot 1") && !r.serial().contains("boot 2"), r.serial());
        }
    }
}
