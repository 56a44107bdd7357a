package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.KvmCoalescedMmio;
import dev.jkvm.kvm.abi.KvmCoalescedMmioRing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coalesced ring read as KVM writes it: a page filled here by hand, entries as KVM lays them out. */
class CoalescedRingTest {

    private record Write(boolean pio, long address, int size, long value) {
    }

    private final MemorySegment page = Arena.ofAuto().allocate(4096, 4096);
    private final CoalescedRing ring = CoalescedRing.over(page);
    /** Entries the last drain freed, replayed or not. */
    private int taken;

    /** What KVM does for a guest write: the entry at last, then last + 1 (modulo the ring). */
    private void kvmWrites(boolean pio, long address, byte... data) {
        int last = page.get(JAVA_INT, KvmCoalescedMmioRing.LAST);
        long e = KvmCoalescedMmioRing.COALESCED_MMIO + (long) last * KvmCoalescedMmio.SIZEOF;
        page.set(JAVA_LONG, e + KvmCoalescedMmio.PHYS_ADDR, address);
        page.set(JAVA_INT, e + KvmCoalescedMmio.LEN, data.length);
        page.set(JAVA_INT, e + KvmCoalescedMmio.PIO, pio ? 1 : 0);
        for (int i = 0; i < data.length; i++) {
            page.set(JAVA_BYTE, e + KvmCoalescedMmio.DATA + i, data[i]);
        }
        page.set(JAVA_INT, KvmCoalescedMmioRing.LAST, (last + 1) % CoalescedRing.ENTRIES);
    }

    private List<Write> drain() {
        List<Write> got = new ArrayList<>();
        taken = ring.drain((pio, address, size, value) -> got.add(new Write(pio, address, size, value)));
        return got;
    }

    @Test
    void aPageHoldsKvmsHundredAndSeventyEntries() {
        assertEquals(170, CoalescedRing.ENTRIES); // KVM_COALESCED_MMIO_MAX for 4 KiB pages
    }

    @Test
    void writesComeOutOldestFirstWithTheirSizeAndLittleEndianValue() {
        assertFalse(ring.hasEntries());
        kvmWrites(true, 0x3f8, (byte) 'h');
        kvmWrites(true, 0x3f8, (byte) 'i');
        kvmWrites(false, 0xfeb00000L, (byte) 0x78, (byte) 0x56, (byte) 0x34, (byte) 0x12);
        assertTrue(ring.hasEntries());
        assertEquals(List.of(new Write(true, 0x3f8, 1, 'h'), new Write(true, 0x3f8, 1, 'i'),
                new Write(false, 0xfeb00000L, 4, 0x12345678)), drain());
        assertFalse(ring.hasEntries());
        assertEquals(3, page.get(JAVA_INT, KvmCoalescedMmioRing.FIRST), "first is where KVM's last is");
        assertEquals(List.of(), drain());
    }

    @Test
    void theRingWrapsAround() {
        List<Write> sent = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 100; i++) { // 500 writes through 170 entries, drained every 100
                byte b = (byte) (round * 100 + i);
                kvmWrites(true, 0x3f8, b);
                sent.add(new Write(true, 0x3f8, 1, b & 0xff));
            }
            assertEquals(sent.subList(round * 100, round * 100 + 100), drain());
        }
    }

    @Test
    void aFullRingIsDrainedWhole() {
        for (int i = 0; i < CoalescedRing.ENTRIES - 1; i++) { // KVM keeps one entry free
            kvmWrites(true, 0x3f8, (byte) i);
        }
        assertEquals(CoalescedRing.ENTRIES - 1, drain().size());
    }

    @Test
    void entriesWithANonsenseLengthAreSkippedAndIndicesOutOfRangeReadModuloTheRing() {
        kvmWrites(true, 0x3f8, new byte[0]);
        kvmWrites(true, 0x3f8, (byte) 'a');
        long e = KvmCoalescedMmioRing.COALESCED_MMIO + 1L * KvmCoalescedMmio.SIZEOF;
        kvmWrites(true, 0x3f8, (byte) 'b');
        page.set(JAVA_INT, e + KvmCoalescedMmio.LEN + KvmCoalescedMmio.SIZEOF, 9); // 'b' claims 9 bytes
        assertEquals(List.of(new Write(true, 0x3f8, 1, 'a')), drain());
        assertEquals(3, taken, "the two nonsense entries are freed too");
        page.set(JAVA_INT, KvmCoalescedMmioRing.FIRST, CoalescedRing.ENTRIES + 3);
        page.set(JAVA_INT, KvmCoalescedMmioRing.LAST, -1);
        drain();
        assertEquals(CoalescedRing.ENTRIES - 4, taken, "from 3 up to 169, never outside the page");
        assertEquals(169, page.get(JAVA_INT, KvmCoalescedMmioRing.FIRST));
    }
}
