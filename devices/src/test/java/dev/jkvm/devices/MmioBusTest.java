package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MmioBusTest {

    static final class Probe implements MmioDevice {
        final String name;
        final List<String> log = new ArrayList<>();

        Probe(String name) {
            this.name = name;
        }

        @Override
        public long read(long offset, int size) {
            log.add("r " + offset + " " + size);
            return 0x1122334455667788L;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add(String.format("w %d %d %x", offset, size, value));
        }

        @Override
        public String name() {
            return name;
        }
    }

    record Access(boolean write, long address, int size, long value) { }

    @Test
    void dispatchesWithOffsetAndMasksToSize() {
        MmioBus bus = new MmioBus();
        Probe ioapic = new Probe("ioapic");
        Probe hpet = new Probe("hpet");
        bus.register(0xfec0_0000L, 0x1000, ioapic);
        bus.register(0xfed0_0000L, 0x400, hpet);

        assertEquals(0x88L, bus.read(0xfec0_0010L, 1));
        assertEquals(0x7788L, bus.read(0xfec0_0010L, 2));
        assertEquals(0x55667788L, bus.read(0xfed0_00f0L, 4));
        assertEquals(0x1122334455667788L, bus.read(0xfed0_00f0L, 8));
        bus.write(0xfec0_0ffcL, 2, 0xabcdefL);

        assertEquals(List.of("r 16 1", "r 16 2", "w 4092 2 cdef"), ioapic.log);
        assertEquals(List.of("r 240 4", "r 240 8"), hpet.log);
    }

    @Test
    void rangeBoundariesAreExact() {
        MmioBus bus = new MmioBus();
        Probe p = new Probe("p");
        bus.register(0x1000, 0x100, p);
        assertNull(bus.deviceAt(0xfff));
        assertSame(p, bus.deviceAt(0x1000));
        assertSame(p, bus.deviceAt(0x10ff));
        assertNull(bus.deviceAt(0x1100));
        assertNull(bus.deviceAt(-1));
    }

    @Test
    void binarySearchFindsEveryRangeAmongMany() {
        MmioBus bus = new MmioBus();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(42));
        Probe[] probes = new Probe[200];
        for (int i : order) {
            probes[i] = new Probe("d" + i);
            // Ranges of varying length 0x10..0x1f with gaps: base i*0x40.
            bus.register(i * 0x40L, 0x10 + (i % 16), probes[i]);
        }
        for (int i = 0; i < 200; i++) {
            long base = i * 0x40L;
            long len = 0x10 + (i % 16);
            assertSame(probes[i], bus.deviceAt(base));
            assertSame(probes[i], bus.deviceAt(base + len - 1));
            assertNull(bus.deviceAt(base + len));
            assertNull(bus.deviceAt(base + 0x3f));
        }
        List<MmioBus.Registration> regs = bus.devices();
        for (int i = 1; i < regs.size(); i++) {
            assertTrue(regs.get(i - 1).base() < regs.get(i).base());
        }
    }

    @Test
    void overlapIsRefusedNamingBothDevices() {
        MmioBus bus = new MmioBus();
        bus.register(0xfee0_0000L, 0x1000, new Probe("lapic"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bus.register(0xfee0_0800L, 0x1000, new Probe("rogue")));
        assertTrue(e.getMessage().contains("lapic"), e.getMessage());
        assertTrue(e.getMessage().contains("rogue"), e.getMessage());
        assertTrue(e.getMessage().contains("0xfee00000-0xfee00fff"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> bus.register(0xfee0_0fffL, 1, new Probe("last byte")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0xfe00_0000L, 0x0200_0000L, new Probe("around")));
        bus.register(0xfee0_1000L, 1, new Probe("adjacent"));
        bus.register(0xfedf_f000L, 0x1000, new Probe("below"));
        assertEquals(3, bus.devices().size());
    }

    @Test
    void invalidRangesAreRefused() {
        MmioBus bus = new MmioBus();
        Probe p = new Probe("p");
        assertThrows(IllegalArgumentException.class, () -> bus.register(-0x1000, 0x100, p));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x1000, 0, p));
        assertThrows(IllegalArgumentException.class, () -> bus.register(Long.MAX_VALUE, 2, p));
        bus.register(Long.MAX_VALUE, 1, p); // the very last byte is fine
        assertSame(p, bus.deviceAt(Long.MAX_VALUE));
    }

    @Test
    void unhandledAccessesAreAllOnesAndReported() {
        MmioBus bus = new MmioBus();
        bus.register(0x1000, 0x10, new Probe("p"));
        List<Access> seen = new ArrayList<>();
        bus.setUnhandledAccessListener((w, a, s, v) -> seen.add(new Access(w, a, s, v)));
        assertEquals(0xffL, bus.read(0x2000, 1));
        assertEquals(0xffffL, bus.read(0x2000, 2));
        assertEquals(0xffff_ffffL, bus.read(0x2000, 4));
        assertEquals(-1L, bus.read(0x0, 8));
        bus.write(0x1010, 4, 0x1_2345_6789L);
        assertEquals(List.of(
                new Access(false, 0x2000, 1, 0xff),
                new Access(false, 0x2000, 2, 0xffff),
                new Access(false, 0x2000, 4, 0xffff_ffffL),
                new Access(false, 0x0, 8, -1L),
                new Access(true, 0x1010, 4, 0x2345_6789L)), seen);
        bus.read(0x1000, 4); // handled: not reported
        assertEquals(5, seen.size());
    }

    @Test
    void badSizeIsRejected() {
        MmioBus bus = new MmioBus();
        assertThrows(IllegalArgumentException.class, () -> bus.read(0, 3));
        assertThrows(IllegalArgumentException.class, () -> bus.write(0, 16, 0));
    }
}
