package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class FwCfgTest {

    final FwCfg fw = new FwCfg(128L << 20, 2, 8);
    final PortBus bus = new PortBus();

    FwCfgTest() {
        bus.register(FwCfg.DEFAULT_BASE, FwCfg.PORT_COUNT, fw);
    }

    void select(int key) {
        bus.write(0x510, 2, key);
    }

    byte[] readBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) bus.read(0x511, 1);
        }
        return b;
    }

    ByteBuffer readItem(int key, int n) {
        select(key);
        return ByteBuffer.wrap(readBytes(n)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void signatureIsQemu() {
        select(FwCfg.SIGNATURE);
        assertEquals("QEMU", new String(readBytes(4), StandardCharsets.US_ASCII));
    }

    @Test
    void idSaysTraditionalInterfaceOnly() {
        assertEquals(1, readItem(FwCfg.ID, 4).getInt());
    }

    @Test
    void ramSizeAndCpuCounts() {
        assertEquals(128L << 20, readItem(FwCfg.RAM_SIZE, 8).getLong());
        assertEquals(2, readItem(FwCfg.NB_CPUS, 2).getShort());
        assertEquals(8, readItem(FwCfg.MAX_CPUS, 2).getShort());
    }

    @Test
    void readsPastTheEndAndOfMissingItemsReturnZero() {
        select(FwCfg.SIGNATURE);
        readBytes(4);
        assertArrayEquals(new byte[3], readBytes(3));
        select(FwCfg.KERNEL_SIZE); // never set
        assertArrayEquals(new byte[4], readBytes(4));
        select(0x3fff); // a file slot with no file
        assertEquals(0, bus.read(0x511, 1));
    }

    @Test
    void selectingRewindsAndByteWritesDoNothing() {
        select(FwCfg.SIGNATURE);
        assertEquals('Q', bus.read(0x511, 1));
        assertEquals('E', bus.read(0x511, 1));
        bus.write(0x510, 1, FwCfg.ID);    // not a selector write
        bus.write(0x511, 1, 0x00);        // the write channel is gone
        assertEquals('M', bus.read(0x511, 1));
        select(FwCfg.SIGNATURE);
        assertEquals('Q', bus.read(0x511, 1));
        assertEquals('E', bus.read(0x510, 1)); // QEMU's combined port: reads at the base read data too
    }

    @Test
    void widerReadsReturnSuccessiveBytesLowFirst() {
        select(FwCfg.SIGNATURE);
        assertEquals('Q' | 'E' << 8 | 'M' << 16 | 'U' << 24, bus.read(0x511, 4));
    }

    @Test
    void fileDirectoryListsFilesBigEndian() {
        byte[] e820 = FwCfg.e820(List.of(
                new FwCfg.E820Entry(0, 0x9fc00, 1),
                new FwCfg.E820Entry(0x100000, (128L << 20) - 0x100000, 1)));
        int s1 = fw.addFile("etc/e820", e820);
        int s2 = fw.addFile("etc/boot-fail-wait", new byte[] {-1, -1, -1, -1});
        assertEquals(0x20, s1);
        assertEquals(0x21, s2);

        select(FwCfg.FILE_DIR);
        ByteBuffer dir = ByteBuffer.wrap(readBytes(4 + 2 * 64)).order(ByteOrder.BIG_ENDIAN);
        assertEquals(2, dir.getInt());
        assertEquals(40, dir.getInt());
        assertEquals(0x20, dir.getShort());
        assertEquals(0, dir.getShort());
        byte[] name = new byte[56];
        dir.get(name);
        assertEquals("etc/e820", new String(name, StandardCharsets.US_ASCII).replace("\0", ""));
        assertEquals(0, name[55]);
        assertEquals(4, dir.getInt());
        assertEquals(0x21, dir.getShort());
        dir.getShort();
        dir.get(name);
        assertEquals("etc/boot-fail-wait", new String(name, StandardCharsets.US_ASCII).replace("\0", ""));
        assertEquals(0, bus.read(0x511, 1)); // past the directory's end

        ByteBuffer file = readItem(s1, 40);
        assertEquals(0, file.getLong());
        assertEquals(0x9fc00, file.getLong());
        assertEquals(1, file.getInt());
        assertEquals(0x100000, file.getLong());
        assertEquals((128L << 20) - 0x100000, file.getLong());
        assertEquals(1, file.getInt());
    }

    @Test
    void emptyDirectoryHasCountZero() {
        assertEquals(0, readItem(FwCfg.FILE_DIR, 4).getInt());
    }

    @Test
    void archItemsAndReplacement() {
        fw.addItem(FwCfg.E820_TABLE, new byte[] {1, 2});
        assertEquals(0x0201, readItem(FwCfg.E820_TABLE, 2).getShort());
        fw.addItem(FwCfg.RAM_SIZE, FwCfg.le(1L << 32, 8));
        assertEquals(1L << 32, readItem(FwCfg.RAM_SIZE, 8).getLong());
        assertEquals(0x0201, readItem(FwCfg.E820_TABLE | 0x4000, 2).getShort()); // write-channel bit ignored
    }

    @Test
    void dataIsCopiedOnAdd() {
        byte[] data = {7};
        int sel = fw.addFile("opt/x", data);
        data[0] = 9;
        assertEquals(7, readItem(sel, 1).get());
    }

    @Test
    void badFilesAndKeysAreRefused() {
        fw.addFile("etc/a", new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> fw.addFile("etc/a", new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> fw.addFile("", new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> fw.addFile("x".repeat(56), new byte[1]));
        fw.addFile("x".repeat(55), new byte[1]);
        assertThrows(IllegalArgumentException.class, () -> fw.addItem(FwCfg.FILE_DIR, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> fw.addItem(0x20, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> fw.addItem(0x8020, new byte[1]));
    }

    @Test
    void describeShowsTheCursor() {
        select(FwCfg.SIGNATURE);
        bus.read(0x511, 1);
        String s = fw.describe();
        assertTrue(s.startsWith("fw_cfg: select=0x0000 pos=1/4 "), s);
    }
}
