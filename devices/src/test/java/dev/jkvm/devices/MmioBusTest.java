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

    /** Byte-addressed memory behind the bus: records every access, so the pieces can be checked. */
    static final class Bytes implements MmioDevice {
        final byte[] mem;
        final List<String> log = new ArrayList<>();

        Bytes(int length) {
            mem = new byte[length];
            for (int i = 0; i < length; i++) {
                mem[i] = (byte) (0x10 + i);
            }
        }

        @Override
        public long read(long offset, int size) {
            check(offset, size);
            long v = 0;
            for (int i = size - 1; i >= 0; i--) {
                v = (v << 8) | (mem[(int) offset + i] & 0xff);
            }
            return v;
        }

        @Override
        public void write(long offset, int size, long value) {
            check(offset, size);
            for (int i = 0; i < size; i++) {
                mem[(int) offset + i] = (byte) (value >>> (8 * i));
            }
        }

        private void check(long offset, int size) {
            log.add(offset + "/" + size);
            if (Long.bitCount(size) != 1 || size > 8 || offset < 0 || offset + size > mem.length) {
                throw new AssertionError("bad piece " + offset + "/" + size);
            }
        }
    }

    @Test
    void pageCrossingStoreIntoTheLegacyHoleIsSplitNotRefused() {
        // The reproducer: a 4-byte store at 0xa0ffd reaches jkvm as a 3-byte exit at
        // 0xa0ffd (and a 1-byte one at 0xa1000); nothing is mapped there.
        MmioBus bus = new MmioBus();
        List<Access> seen = new ArrayList<>();
        bus.setUnhandledAccessListener((w, a, s, v) -> seen.add(new Access(w, a, s, v)));
        bus.write(0xa0ffdL, 3, 0xcc_bbaaL);
        assertEquals(0xff_ffffL, bus.read(0xa0ffdL, 3));
        assertEquals(List.of(new Access(true, 0xa0ffdL, 1, 0xaa), new Access(true, 0xa0ffeL, 2, 0xccbb),
                new Access(false, 0xa0ffdL, 1, 0xff), new Access(false, 0xa0ffeL, 2, 0xffff)), seen);
    }

    @Test
    void everyLengthAtEveryAlignmentReachesTheRightBytesInAlignedPieces() {
        for (int size = 1; size <= 8; size++) {
            for (int at = 0; at < 16; at++) {
                MmioBus bus = new MmioBus();
                Bytes dev = new Bytes(32);
                bus.register(0x1000, 32, dev);
                long expected = 0;
                for (int i = size - 1; i >= 0; i--) {
                    expected = (expected << 8) | (0x10 + at + i);
                }
                String where = "size " + size + " at +" + at;
                assertEquals(expected, bus.read(0x1000 + at, size), where);
                for (String piece : dev.log) {
                    long off = Long.parseLong(piece.split("/")[0]);
                    int sz = Integer.parseInt(piece.split("/")[1]);
                    boolean whole = dev.log.size() == 1 && Long.bitCount(size) == 1;
                    assertTrue(whole || off % sz == 0, where + ": piece " + piece + " not aligned");
                }
                bus.write(0x1000 + at, size, 0x8877_6655_4433_2211L);
                for (int i = 0; i < 32; i++) {
                    int want = i >= at && i < at + size ? 0x11 * (i - at + 1) : 0x10 + i;
                    assertEquals(want & 0xff, dev.mem[i] & 0xff, where + ": byte " + i);
                }
            }
        }
    }

    @Test
    void anAccessOverTheEdgeOfADeviceIsSplitBetweenItAndWhatFollows() {
        MmioBus bus = new MmioBus();
        Bytes a = new Bytes(4);
        Bytes b = new Bytes(4);
        bus.register(0x2000, 4, a);
        bus.register(0x2004, 4, b);
        List<Access> seen = new ArrayList<>();
        bus.setUnhandledAccessListener((w, ad, s, v) -> seen.add(new Access(w, ad, s, v)));
        // 8 bytes from 0x2002: a's last two, all four of b, two unclaimed
        assertEquals(0xffff_1312_1110_1312L, bus.read(0x2002, 8));
        assertEquals(List.of("2/2"), a.log);
        assertEquals(List.of("0/4"), b.log);
        assertEquals(List.of(new Access(false, 0x2008, 2, 0xffff)), seen);
        // a 4-byte access that runs past the end no longer reaches the device beyond its range
        bus.read(0x2006, 4);
        assertEquals(List.of("0/4", "2/2"), b.log);
    }

    @Test
    void badSizeIsRejected() {
        MmioBus bus = new MmioBus();
        assertThrows(IllegalArgumentException.class, () -> bus.read(0, 0));
        assertThrows(IllegalArgumentException.class, () -> bus.read(0, 9));
        assertThrows(IllegalArgumentException.class, () -> bus.write(0, 16, 0));
    }
}
