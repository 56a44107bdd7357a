package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** int3 insertion and restoration, and that gdb never sees an int3 of its own. */
class SoftwareBreakpointsTest {

    private static final long V = FakeTarget.VIRTUAL_BASE;

    private final FakeTarget target = new FakeTarget(1);
    private final MemoryAccess virtual = MemoryAccess.of(target, 0, false);
    private final MemoryAccess physical = MemoryAccess.of(target, 0, true);
    private final SoftwareBreakpoints bps = new SoftwareBreakpoints();

    SoftwareBreakpointsTest() {
        target.load(0x1000, (byte) 0x55, (byte) 0x48, (byte) 0x89, (byte) 0xe5);
    }

    @Test
    void insertWritesInt3AndRemoveRestores() {
        assertTrue(bps.insert(virtual, false, V + 0x1001));
        assertEquals((byte) 0xCC, target.physicalByte(0x1001));
        assertEquals((byte) 0x55, target.physicalByte(0x1000));
        assertTrue(bps.insert(virtual, false, V + 0x1001), "inserting twice is harmless");
        assertTrue(bps.remove(false, V + 0x1001));
        assertEquals((byte) 0x48, target.physicalByte(0x1001), "the original byte, not the 0xCC of the second insert");
        assertTrue(bps.isEmpty());
        assertTrue(bps.remove(false, V + 0x1001), "removing an absent breakpoint is harmless");
    }

    @Test
    void readsAreMaskedInTheSameAddressSpaceOnly() {
        bps.insert(virtual, false, V + 0x1000);
        bps.insert(virtual, false, V + 0x1003);
        byte[] data = new byte[4];
        virtual.read(V + 0x1000, data);
        assertArrayEquals(new byte[] {(byte) 0xCC, 0x48, (byte) 0x89, (byte) 0xCC}, data);
        bps.mask(false, V + 0x1000, data, 4);
        assertArrayEquals(new byte[] {0x55, 0x48, (byte) 0x89, (byte) 0xe5}, data);

        byte[] partial = new byte[2];
        virtual.read(V + 0x0fff, partial);
        bps.mask(false, V + 0x0fff, partial, 2);
        assertEquals(0x55, partial[1]);

        byte[] raw = new byte[4];
        physical.read(0x1000, raw);
        bps.mask(true, 0x1000, raw, 4);
        assertEquals((byte) 0xCC, raw[0], "a virtual breakpoint is not masked in a physical read");
    }

    @Test
    void writeOverABreakpointChangesTheOriginalAndKeepsTheInt3() {
        bps.insert(virtual, false, V + 0x1002);
        byte[] patch = {(byte) 0x90, (byte) 0x90, (byte) 0x90};
        virtual.write(V + 0x1001, patch);
        bps.rearmAfterWrite(false, V + 0x1001, patch, 3);
        assertEquals((byte) 0xCC, target.physicalByte(0x1002));
        assertEquals((byte) 0x90, target.physicalByte(0x1001));
        byte[] seen = new byte[3];
        virtual.read(V + 0x1001, seen);
        bps.mask(false, V + 0x1001, seen, 3);
        assertArrayEquals(patch, seen);
        bps.remove(false, V + 0x1002);
        assertEquals((byte) 0x90, target.physicalByte(0x1002), "removal puts back what gdb wrote");
    }

    @Test
    void physicalBreakpointsAndRemoveAll() {
        assertTrue(bps.insert(physical, true, 0x1000));
        assertTrue(bps.insert(virtual, false, V + 0x1002));
        assertTrue(bps.contains(true, 0x1000));
        assertFalse(bps.contains(false, 0x1000));
        assertArrayEquals(new long[] {0x1000, V + 0x1002}, sortedUnsigned(bps.addresses()));
        assertEquals(0, bps.removeAll());
        assertArrayEquals(new byte[] {0x55, 0x48, (byte) 0x89, (byte) 0xe5}, java.util.Arrays.copyOfRange(target.memory, 0x1000, 0x1004));
    }

    @Test
    void anUnmappedAddressIsRefused() {
        assertFalse(bps.insert(virtual, false, 0x1000)); // below the fake's virtual window
        assertTrue(bps.isEmpty());
    }

    private static long[] sortedUnsigned(long[] a) {
        return java.util.Arrays.stream(a).boxed().sorted(Long::compareUnsigned).mapToLong(Long::longValue).toArray();
    }
}
