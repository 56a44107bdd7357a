package dev.jkvm.vmm.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TraceRingTest {

    @Test
    void recordsComeOutInOrderWithTheirFields() {
        TraceRing ring = new TraceRing(4);
        ring.put(TraceRing.head(TraceRing.EXIT, 2, TraceRing.FLAG_OUT, 1, 900), 10, 20, 0x99);
        ring.put(TraceRing.head(TraceRing.KICK, 0, 0, 0, 5), 30, 40, 0);
        List<long[]> out = new ArrayList<>();
        assertEquals(2, ring.drain((h, s, x, a) -> out.add(new long[] {h, s, x, a})));
        long h = out.get(0)[0];
        assertEquals(TraceRing.EXIT, TraceRing.kind(h));
        assertEquals(2, TraceRing.reason(h));
        assertEquals(TraceRing.FLAG_OUT, TraceRing.flags(h));
        assertEquals(1, TraceRing.size(h));
        assertEquals(900, TraceRing.userNanos(h));
        assertEquals(0x99, out.get(0)[3]);
        assertEquals(TraceRing.KICK, TraceRing.kind(out.get(1)[0]));
        assertEquals(0, ring.drain((a, b, c, d) -> { }));
    }

    @Test
    void aFullRingDropsAndCountsInsteadOfWaiting() {
        TraceRing ring = new TraceRing(2);
        for (int i = 0; i < 5; i++) {
            ring.put(TraceRing.head(TraceRing.EXIT, 2, 0, 1, 0), i, i, i);
        }
        assertEquals(3, ring.dropped());
        List<Long> starts = new ArrayList<>();
        ring.drain((h, s, x, a) -> starts.add(s));
        assertEquals(List.of(0L, 1L), starts, "the oldest records are kept");
        ring.put(TraceRing.head(TraceRing.EXIT, 2, 0, 1, 0), 7, 7, 7);
        ring.drain((h, s, x, a) -> starts.add(s));
        assertEquals(List.of(0L, 1L, 7L), starts, "room again once drained");
    }

    @Test
    void userTimeIsClampedToWhatTheRecordHolds() {
        assertEquals(0xffff_ffffL, TraceRing.userNanos(TraceRing.head(TraceRing.EXIT, 2, 0, 1, 1L << 40)));
        assertEquals(0, TraceRing.userNanos(TraceRing.head(TraceRing.EXIT, 2, 0, 1, -5)));
    }

    @Test
    void theCapacityIsAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new TraceRing(3));
    }

    @Test
    void theSpecTakesALimitAndKnowsHtmlByTheName() {
        TraceSpec s = TraceSpec.parse("out.json,limit=2M");
        assertEquals(2_000_000, s.limit());
        assertEquals(TraceSpec.DEFAULT_HTML_LIMIT, TraceSpec.parse("t.html").limit());
        assertEquals(TraceSpec.DEFAULT_LIMIT, TraceSpec.parse("t.json").limit());
        assertEquals(true, TraceSpec.parse("t.html").html());
        assertEquals(false, s.html());
        assertEquals("a,b.json", TraceSpec.parse("a,,b.json").path().toString());
        assertEquals("unsupported option 'size=3' (FILE[,limit=N])",
                assertThrows(IllegalArgumentException.class, () -> TraceSpec.parse("t.json,size=3")).getMessage());
        assertEquals("limit=0: expected a number of events from 1 to 1000000000",
                assertThrows(IllegalArgumentException.class, () -> TraceSpec.parse("t.json,limit=0")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> TraceSpec.parse(",limit=5"));
    }

    @Test
    void jsonStringsAreSafeInsideAScriptElement() {
        assertEquals("\"\\u003c/script\\u003e \\\"x\\\"\"", new String(TraceFile.quote("</script> \"x\"")));
    }
}
