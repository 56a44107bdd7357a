package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PcTestdevTest {

    final List<String> irqEvents = new ArrayList<>();
    final List<Long> flushed = new ArrayList<>();
    final PcTestdev dev = new PcTestdev(n -> level -> irqEvents.add(n + (level ? "+" : "-")), flushed::add);
    final PortBus ports = new PortBus();
    final MmioBus mmio = new MmioBus();

    PcTestdevTest() {
        dev.registerOn(ports, mmio);
    }

    @Test
    void scratchRegisterTakesEveryWidthAtItsLane() {
        ports.write(0xe0, 4, 0x11223344);
        assertEquals(0x11223344, ports.read(0xe0, 4));
        assertEquals(0x44, ports.read(0xe0, 1));
        assertEquals(0x33, ports.read(0xe1, 1));
        assertEquals(0x1122, ports.read(0xe2, 2));
        assertEquals(0x11, ports.read(0xe3, 1));
        ports.write(0xe1, 1, 0xaa);
        assertEquals(0x1122aa44, ports.read(0xe0, 4));
        ports.write(0xe2, 2, 0xbeef);
        assertEquals(0xbeefaa44, ports.read(0xe0, 4));
    }

    @Test
    void wideAccessAtAHighOffsetKeepsOnlyTheLanesThatExist() {
        // QEMU's arithmetic in 32 bits: a dword at 0xe2 writes lanes 2-3 with its low half.
        ports.write(0xe0, 4, 0);
        ports.write(0xe2, 4, 0xcafe1234);
        assertEquals(0x12340000, ports.read(0xe0, 4));
        assertEquals(0x1234, ports.read(0xe2, 4));
        ports.write(0xe3, 2, 0xabcd);
        assertEquals(0xcd340000, ports.read(0xe0, 4));
        assertEquals(0xcd, ports.read(0xe3, 2));
    }

    @Test
    void byteSplitViewIsTheSameRegister() {
        ports.write(0xe8, 4, 0xdeadbeef);
        assertEquals(0xdeadbeef, ports.read(0xe0, 4));
        assertEquals(0xdeadbeef, ports.read(0xe8, 4));
        assertEquals(0xdead, ports.read(0xea, 2));
        ports.write(0xe9, 2, 0x0102);
        assertEquals(0xde0102ef, ports.read(0xe0, 4));
        assertEquals(0xffffde01, ports.read(0xea, 4)); // bytes past 0xeb are nobody's: all ones
    }

    @Test
    void flushNamesThePageOnDwordWritesOnly() {
        ports.write(0xe4, 4, 0x12345678);
        ports.write(0xe4, 1, 0x12);
        ports.write(0xe4, 2, 0x1234);
        assertEquals(List.of(0x12345000L), flushed);
        assertEquals(0, ports.read(0xe4, 4));
    }

    @Test
    void irqPortsRaiseAndLowerTheirLine() {
        ports.write(0x2004, 1, 1);
        ports.write(0x2004, 1, 0);
        ports.write(0x200a, 1, 0x80);
        assertTrue(dev.level(10));
        ports.write(0x2017, 1, 5);
        ports.write(0x2003, 2, 1); // wider accesses are invalid, as in QEMU
        assertEquals(List.of("4+", "4-", "10+", "23+"), irqEvents);
        assertFalse(dev.level(4));
        assertEquals(0, ports.read(0x2004, 1));
        assertEquals("pc-testdev: data=0x00000000 lines high=10,23", dev.describe());
    }

    @Test
    void iomemIsRamLikeAtEveryWidthAndAlignment() {
        long base = PcTestdev.IOMEM_BASE;
        mmio.write(base, 8, 0x0807060504030201L);
        assertEquals(0x0807060504030201L, mmio.read(base, 8));
        assertEquals(0x0504030201L & 0xffffffffL, mmio.read(base, 4));
        assertEquals(0x0403, mmio.read(base + 2, 2));
        mmio.write(base + 3, 4, 0xaabbccddL);
        assertEquals(0x08aabbccdd030201L, mmio.read(base, 8));
        mmio.write(base + 0xffff, 1, 0x5a);
        assertEquals(0x5a, mmio.read(base + 0xffff, 1));
        assertEquals(0xffffffff5a000000L, mmio.read(base + 0xfffc, 8)); // past the window: all ones
    }
}
