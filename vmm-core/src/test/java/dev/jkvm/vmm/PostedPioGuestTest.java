package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.stats.VcpuReport;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * COM1's output posted by KVM (coalesced PIO, {@code vcpu/PostedPio}), as guests see it: every byte
 * comes out, in order, also from string instructions and around the divisor latch and loopback,
 * and a byte costs the guest's LSR poll as its only exit to jkvm. Where KVM cannot post
 * ({@code KVM_CAP_COALESCED_PIO} absent) every THR write exits, and the same output must come.
 */
@RequiresKvm
class PostedPioGuestTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int COM1 = 0x3f8;
    private static final int LSR = COM1 + 5;

    private static boolean kvmPosts() {
        return SharedKvm.get().checkExtension(KvmConstants.KVM_CAP_COALESCED_PIO) > 0;
    }

    private static long thrExits(Machine m) {
        return m.reports().stream().mapToLong(r -> r.user().portCount(COM1, true)).sum();
    }

    @Test
    void stringWritesTheDivisorLatchAndLoopbackLoseNothingAndReorderNothing() {
        StringBuilder expected = new StringBuilder();
        for (int copy = 1; copy <= 4; copy++) {
            expected.append("copy ").append(copy).append('\n');
            expected.append("abcdefghijklmnopqrstuvwxyz0123456789ABC\n".repeat(25));
            expected.append("loop ok\n");
        }
        expected.append("rep-outs done\n");
        try (Machine m = DevicesGuestTest.machine("-bios", "rep-outs")) {
            RunResult r = m.run(WAIT);
            assertEquals(3, r.exitStatus(), r.message() + "\n" + r.serialTail(5));
            assertEquals(expected.toString(), m.serial().transcript().replace("\r", ""));
            long exits = thrExits(m);
            // 4,083 bytes to THR: a string write of 1,000 exits once per 170 posted (the ring's size)
            // plus the divisor and loopback writes, which are not posted.
            if (kvmPosts()) {
                assertTrue(exits < 100, exits + " THR writes exited to jkvm");
            } else {
                assertTrue(exits >= 4083, exits + " THR writes exited to jkvm");
            }
        }
    }

    @Test
    void aPolledConsoleByteExitsOnceForItsLsrRead() {
        try (Machine m = DevicesGuestTest.machine("-bios", "hello")) {
            RunResult r = m.run(WAIT);
            assertTrue(m.serial().transcript().contains("Hello from the guest\r\n"), r.serialTail(5));
            String bytes = "Hello from the guest\r\n";
            VcpuReport cpu0 = m.reports().getFirst();
            assertEquals(bytes.length(), cpu0.user().portCount(LSR, false), "one LSR poll a byte");
            // the divisor's low byte (DLAB on) is the one write at offset 0 that always exits
            assertEquals(kvmPosts() ? 1 : 1 + bytes.length(), thrExits(m));
        }
    }

    @Test
    void whatAGuestPrintsBeforeItSpinsWithoutExitsStillComesOut() throws InterruptedException {
        try (Machine m = DevicesGuestTest.machine("-bios", "spin")) {
            m.start();
            // spin.rom never exits after its last byte: the drain thread, not an exit, brings it out
            assertTrue(m.serial().awaitLine(Pattern.compile("spinning"), WAIT).isPresent(), m.serial().tail(5));
            assertEquals(kvmPosts() ? 1 : 1 + "spinning\r\n".length(), thrExits(m));
        }
    }
}
