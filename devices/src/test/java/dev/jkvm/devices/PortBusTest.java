package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortBusTest {

    /** Records accesses and returns a fixed wide value on reads. */
    static final class Probe implements PortIoDevice {
        final String name;
        final List<String> log = new ArrayList<>();
        int readValue = 0x12345678;

        Probe(String name) {
            this.name = name;
        }

        @Override
        public int read(int offset, int size) {
            log.add("r " + offset + " " + size);
            return readValue;
        }

        @Override
        public void write(int offset, int size, int value) {
            log.add(String.format("w %d %d %x", offset, size, value));
        }

        @Override
        public String name() {
            return name;
        }
    }

    record Access(boolean write, long address, int size, long value) { }

    @Test
    void dispatchesWithOffsetFromBase() {
        PortBus bus = new PortBus();
        Probe com1 = new Probe("COM1");
        Probe com2 = new Probe("COM2");
        bus.register(0x3f8, 8, com1);
        bus.register(0x2f8, 8, com2);

        bus.read(0x3fd, 1);
        bus.write(0x2f9, 2, 0x1234);
        bus.write(0x3f8, 4, 0xdeadbeef);
        bus.read(0x2ff, 4);

        assertEquals(List.of("r 5 1", "w 0 4 deadbeef"), com1.log);
        assertEquals(List.of("w 1 2 1234", "r 7 4"), com2.log);
    }

    @Test
    void readValueIsMaskedToAccessSizeAndWritesAreMasked() {
        PortBus bus = new PortBus();
        Probe p = new Probe("p");
        bus.register(0x100, 4, p);
        assertEquals(0x78, bus.read(0x100, 1));
        assertEquals(0x5678, bus.read(0x100, 2));
        assertEquals(0x12345678, bus.read(0x100, 4));
        bus.write(0x101, 1, 0xabcd);
        assertEquals("w 1 1 cd", p.log.get(p.log.size() - 1));
    }

    @Test
    void rangeBoundariesAreExact() {
        PortBus bus = new PortBus();
        Probe p = new Probe("p");
        bus.register(0x60, 5, p);
        assertNull(bus.deviceAt(0x5f));
        assertSame(p, bus.deviceAt(0x60));
        assertSame(p, bus.deviceAt(0x64));
        assertNull(bus.deviceAt(0x65));
        assertEquals(0xff, bus.read(0x65, 1));
        assertEquals(0xff, bus.read(0x5f, 1));
        assertEquals(0, p.log.size());
    }

    @Test
    void portsAtTheEdgesOfTheSpaceWork() {
        PortBus bus = new PortBus();
        Probe low = new Probe("low");
        Probe high = new Probe("high");
        bus.register(0, 1, low);
        bus.register(0xffff, 1, high);
        bus.read(0, 1);
        bus.read(0xffff, 1);
        assertEquals(List.of("r 0 1"), low.log);
        assertEquals(List.of("r 0 1"), high.log);
    }

    @Test
    void overlapIsRefusedNamingBothDevicesAndPorts() {
        PortBus bus = new PortBus();
        bus.register(0x3f8, 8, new Probe("COM1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bus.register(0x3fc, 8, new Probe("intruder")));
        String m = e.getMessage();
        assertTrue(m.contains("COM1"), m);
        assertTrue(m.contains("intruder"), m);
        assertTrue(m.contains("0x03fc"), m);
        assertTrue(m.contains("0x03f8-0x03ff"), m);
        // Contained and containing ranges are overlaps too.
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3f9, 1, new Probe("inside")));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x3f0, 0x20, new Probe("around")));
        // The refused registrations left nothing behind; adjacent ranges are fine.
        assertEquals(1, bus.devices().size());
        bus.register(0x3f0, 8, new Probe("below"));
        bus.register(0x400, 1, new Probe("above"));
        assertEquals(3, bus.devices().size());
    }

    @Test
    void invalidRangesAreRefused() {
        PortBus bus = new PortBus();
        Probe p = new Probe("p");
        assertThrows(IllegalArgumentException.class, () -> bus.register(0xfffe, 4, p));
        assertThrows(IllegalArgumentException.class, () -> bus.register(-1, 2, p));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x10, 0, p));
        assertEquals(0, bus.devices().size());
    }

    @Test
    void unhandledReadsAreAllOnesAndWritesIgnoredListenerTold() {
        PortBus bus = new PortBus();
        List<Access> seen = new ArrayList<>();
        bus.setUnhandledAccessListener((w, a, s, v) -> seen.add(new Access(w, a, s, v)));
        assertEquals(0xff, bus.read(0x80, 1));
        assertEquals(0xffff, bus.read(0x81, 2));
        assertEquals(0xffffffff, bus.read(0xcf8, 4));
        bus.write(0x80, 1, 0x1a5);
        bus.write(0xcfc, 4, 0x80000000);
        assertEquals(List.of(
                new Access(false, 0x80, 1, 0xff),
                new Access(false, 0x81, 2, 0xffff),
                new Access(false, 0xcf8, 4, 0xffffffffL),
                new Access(true, 0x80, 1, 0xa5),
                new Access(true, 0xcfc, 4, 0x80000000L)), seen);

        bus.setUnhandledAccessListener(null);
        assertEquals(0xff, bus.read(0x80, 1));
        assertEquals(5, seen.size());
    }

    @Test
    void handledAccessesDoNotReachTheListener() {
        PortBus bus = new PortBus();
        List<Access> seen = new ArrayList<>();
        bus.setUnhandledAccessListener((w, a, s, v) -> seen.add(new Access(w, a, s, v)));
        bus.register(0x70, 2, new Probe("rtc"));
        bus.read(0x70, 1);
        bus.write(0x71, 1, 0);
        assertEquals(List.of(), seen);
    }

    @Test
    void badSizeOrPortIsRejected() {
        PortBus bus = new PortBus();
        assertThrows(IllegalArgumentException.class, () -> bus.read(0x80, 3));
        assertThrows(IllegalArgumentException.class, () -> bus.write(0x80, 8, 0));
        assertThrows(IllegalArgumentException.class, () -> bus.read(0x10000, 1));
        assertThrows(IllegalArgumentException.class, () -> bus.write(-1, 1, 0));
    }

    @Test
    void devicesAreListedSortedByBase() {
        PortBus bus = new PortBus();
        Probe com1 = new Probe("COM1");
        Probe exit = new Probe("exit");
        Probe com2 = new Probe("COM2");
        bus.register(0x3f8, 8, com1);
        bus.register(0xf4, 1, exit);
        bus.register(0x2f8, 8, com2);
        assertEquals(List.of(
                new PortBus.Registration(0xf4, 1, exit),
                new PortBus.Registration(0x2f8, 8, com2),
                new PortBus.Registration(0x3f8, 8, com1)), bus.devices());
        assertEquals("0x03f8-0x03ff COM1", bus.devices().get(2).toString());
    }
}
