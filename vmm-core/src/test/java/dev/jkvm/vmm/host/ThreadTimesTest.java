package dev.jkvm.vmm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A thread's times from its stat file: the kept-open reading agrees with opening the file, and the fields are the right ones. */
class ThreadTimesTest {

    private static ThreadTimes parse(String stat) {
        byte[] b = stat.getBytes(StandardCharsets.US_ASCII);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(b.length + 16);
            MemorySegment.copy(b, 0, s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b.length);
            return ThreadTimes.parse(s, b.length);
        }
    }

    @Test
    void fields14And15And43AfterANameWithSpacesAndParentheses() {
        // proc(5): pid (comm) state ppid ... utime(14) stime(15) ... guest_time(43) cguest_time(44) ...
        StringBuilder sb = new StringBuilder("4242 (CPU 0/KVM) (x)) R");
        for (int field = 4; field <= 52; field++) {
            long v = switch (field) {
                case 14 -> 7;
                case 15 -> 11;
                case 18 -> -2; // priority: negative numbers are skipped over
                case 43 -> 5;
                default -> 1000 + field;
            };
            sb.append(' ').append(v);
        }
        ThreadTimes t = parse(sb.append('\n').toString());
        long tick = t.userNanos() / 7;
        assertEquals(7 * tick, t.userNanos());
        assertEquals(11 * tick, t.systemNanos());
        assertEquals(5 * tick, t.guestNanos());
        assertTrue(tick > 0);
    }

    @Test
    void noNameNoTimes() {
        assertNull(parse("garbage without a command name"));
    }

    @Test
    void theKeptFileReadsWhatOpeningItReads() {
        try (ThreadTimes.Own own = new ThreadTimes.Own()) {
            ThreadTimes kept = own.read();
            ThreadTimes opened = ThreadTimes.of(Libc.gettid());
            assertNotNull(kept);
            assertNotNull(opened);
            // the same clock ticks, read a moment apart: never less, and within the second that a busy test JVM may take
            assertTrue(opened.userNanos() + opened.systemNanos() >= kept.userNanos() + kept.systemNanos());
            assertTrue(opened.userNanos() + opened.systemNanos() - kept.userNanos() - kept.systemNanos() < 1_000_000_000L);
            ThreadTimes again = own.read();
            assertTrue(again.userNanos() >= kept.userNanos(), "read afresh, not the first reading again");
        }
    }
}
