package dev.jkvm.vmm.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code -d unimp} against a guest that touches every page: a bounded log and a bounded memory of places. */
class UnimplementedLogTest {

    @Test
    void eachPlaceOnceAndAtMostLimitPlaces() {
        List<String> lines = new ArrayList<>();
        UnimplementedLog log = new UnimplementedLog(lines::add);
        log.port(true, 0x99, 1, 1);
        log.port(true, 0x99, 1, 2);
        assertEquals(1, lines.size());
        for (long page = 0; page < 1_000_000; page++) {
            log.mmio(false, 0xe000_0000L + (page << 12), 4, 0);
        }
        assertEquals(4096 + 1, lines.size());
        assertTrue(lines.getLast().contains("no more are"), lines.getLast());
    }
}
