package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class PciTestdevTest {

    final PortBus ports = new PortBus();
    final MmioBus mmio = new MmioBus();
    final PciTestdev dev = new PciTestdev(ports, mmio);

    @Test
    void identityIsQemus() {
        assertEquals(0x00051b36, dev.readConfig(0, 4));
        assertEquals(0x00ff0000, dev.readConfig(8, 4)); // class 0x00ff ("Class 0255" in QEMU's info pci), revision 0
        assertEquals(0x11001af4, dev.readConfig(0x2c, 4));
        assertEquals(0, dev.readConfig(0x3d, 1)); // no interrupt pin
    }

    @Test
    void barsSizeThePciWayAndDecodeWhereTheyPoint() {
        assertEquals(0, dev.readConfig(0x10, 4));
        assertEquals(1, dev.readConfig(0x14, 4));
        dev.writeConfig(0x10, 4, 0xffffffff);
        assertEquals(0xfffff000, dev.readConfig(0x10, 4)); // 4 KiB, 32-bit memory
        dev.writeConfig(0x14, 4, 0xffffffff);
        assertEquals(0xffffff01, dev.readConfig(0x14, 4)); // 256 ports
        dev.writeConfig(0x10, 4, 0xe0000000);
        dev.writeConfig(0x14, 4, 0xd000);
        assertNull(mmio.deviceAt(0xe0000000L)); // decoding still off
        dev.writeConfig(0x04, 2, 3);
        assertSame(dev.mmio(), mmio.deviceAt(0xe0000fffL));
        assertSame(dev.io(), ports.deviceAt(0xd0ff));
        dev.writeConfig(0x10, 4, 0xe0001000); // moved
        assertNull(mmio.deviceAt(0xe0000000L));
        assertSame(dev.mmio(), mmio.deviceAt(0xe0001000L));
        dev.writeConfig(0x04, 2, 0);
        assertNull(ports.deviceAt(0xd000));
    }

    @Test
    void firmwareAssignmentIsWhatSeabiosGivesAndComesBackOnReset() {
        dev.assignAsFirmware(PciTestdev.DEFAULT_MMIO_BASE, PciTestdev.DEFAULT_IO_BASE);
        assertEquals(0xfebff000, dev.readConfig(0x10, 4));
        assertEquals(0xc001, dev.readConfig(0x14, 4));
        assertEquals(3, dev.readConfig(0x04, 2) & 3);
        dev.writeConfig(0x10, 4, 0xe0000000);
        dev.reset();
        assertSame(dev.mmio(), mmio.deviceAt(0xfebff000L));
    }

    /** kvm-unit-tests' pci_testdev_one, for one region. */
    private static boolean runTest(java.util.function.IntUnaryOperator readByte, java.util.function.BiConsumer<Integer, Integer> writeByte,
            int test) {
        writeByte.accept(0, test);
        int count = readByte.applyAsInt(12) | readByte.applyAsInt(13) << 8;
        int width = readByte.applyAsInt(1);
        if (count != 0 || width != 1) {
            return false;
        }
        int data = readByte.applyAsInt(8);
        int off = readByte.applyAsInt(4) | readByte.applyAsInt(5) << 8;
        for (int i = 0; i < 16; i++) {
            writeByte.accept(off, data);
        }
        count = readByte.applyAsInt(12);
        return count == 0 || count == 16;
    }

    private static String name(java.util.function.IntUnaryOperator readByte) {
        StringBuilder sb = new StringBuilder();
        for (int i = 16; readByte.applyAsInt(i) != 0; i++) {
            sb.append((char) readByte.applyAsInt(i));
        }
        return sb.toString();
    }

    @Test
    void theNotifyProtocolCountsAsQemuDefinesIt() {
        PortIoDevice io = dev.io();
        MmioDevice mem = dev.mmio();
        java.util.function.IntUnaryOperator ioRead = a -> io.read(a, 1);
        java.util.function.IntUnaryOperator memRead = a -> (int) mem.read(a, 1);
        String[] names = {"mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd"};
        for (int t = 0; t < 3; t++) {
            assertEquals(true, runTest(memRead, (a, v) -> mem.write(a, 1, v), t));
            assertEquals(16, memRead.applyAsInt(12));
            assertEquals(names[t], name(memRead));
            assertEquals(t, memRead.applyAsInt(0));
            assertEquals(2048 + t, memRead.applyAsInt(4) | memRead.applyAsInt(5) << 8);
        }
        for (int t = 0; t < 3; t++) {
            assertEquals(true, runTest(ioRead, (a, v) -> io.write(a, 1, v), t));
            assertEquals("portio-" + names[t].substring(5), name(ioRead));
            assertEquals(3 + t, ioRead.applyAsInt(0));
            assertEquals(128 + 3 + t, ioRead.applyAsInt(4));
        }
        assertEquals(false, runTest(ioRead, (a, v) -> io.write(a, 1, v), 3)); // past the last test: deselected
        assertEquals(0, io.read(0, 4));
    }

    @Test
    void dataMatchIgnoresOtherValuesAndWildcardTakesAny() {
        MmioDevice mem = dev.mmio();
        mem.write(0, 1, 2); // datamatch
        mem.write(2050, 1, 0x11);
        mem.write(2050, 1, 0xfa);
        mem.write(2051, 1, 0xfa); // another offset
        assertEquals(1, mem.read(12, 4));
        mem.write(0, 1, 1); // wildcard
        mem.write(2049, 1, 0x11);
        mem.write(2049, 4, 0x11); // split into bytes: only the first lands on the offset
        assertEquals(2, mem.read(12, 1));
        assertEquals(0xce, mem.read(8, 1));
        assertEquals('d', mem.read(36, 1)); // "mmio-wildcard-eventfd"
        assertEquals(0, mem.read(37, 1)); // its NUL, and everything after, reads 0 (QEMU's addr + size >= bufsize)
        assertEquals(0, mem.read(1000, 1));
    }
}
