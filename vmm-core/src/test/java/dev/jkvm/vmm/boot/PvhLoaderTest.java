package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.board.Layout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PvhLoaderTest {

    @TempDir
    Path dir;

    @Test
    void loadsSegmentsAtTheirPhysicalAddressesAndBuildsStartInfo() throws IOException {
        Path kernel = TestImages.write(dir, "vmlinux", TestKernels.pvhElf());
        Path initrd = TestImages.write(dir, "initrd", "initrd text\0".getBytes(StandardCharsets.US_ASCII));
        try (TestGuest g = new TestGuest(128 * MIB)) {
            BootEntry e = PvhLoader.load(new BootRequest(kernel, initrd.toString(), "console=hvc0", 0xf0000), g.memory, g.e820);
            assertEquals(BootEntry.Mode.PROTECTED_32, e.mode());
            assertEquals(TestKernels.PVH_LOAD, e.rip(), "the note's entry, not e_entry");
            assertEquals(Layout.BOOT_INFO, e.rbx());
            assertEquals(0, e.cr3());
            byte[] code = TestKernels.pvhCode(TestKernels.PVH_LOAD);
            assertArrayEquals(code, g.memory.read(TestKernels.PVH_LOAD, code.length));

            ByteBuffer si = g.le(Layout.BOOT_INFO, 0x60);
            assertEquals(0x336ec578, si.getInt(0x00));
            assertEquals(1, si.getInt(0x04), "version 1: with the memory map");
            assertEquals(1, si.getInt(0x0c), "nr_modules");
            assertEquals(Layout.BOOT_INFO + 0x40, si.getLong(0x10));
            assertEquals("console=hvc0", g.cstring(si.getLong(0x18)));
            assertEquals(0xf0000, si.getLong(0x20), "rsdp_paddr");
            assertEquals(Layout.BOOT_MEMORY_MAP, si.getLong(0x28));
            assertEquals(5, si.getInt(0x30));
            long initrdAt = si.getLong(0x40);
            assertEquals((128 * MIB - 12) & ~0xfffL, initrdAt);
            assertEquals(12, si.getLong(0x48));
            assertEquals("initrd text", g.cstring(initrdAt));
            byte[] memmap = g.e820.pvh();
            assertArrayEquals(memmap, g.memory.read(Layout.BOOT_MEMORY_MAP, memmap.length));
        }
    }

    @Test
    void acceptsAnEightByteEntryNoteAsLinuxWritesIt() throws IOException {
        byte[] note = TestImages.note("Xen", 18, TestImages.le(8).putLong(0x1000010).array());
        byte[] elf = TestImages.elf(64, 0, List.of(new TestImages.Seg(0x1000000, new byte[64])),
                TestImages.concat(TestImages.note("Xen", 6, "linux\0".getBytes(StandardCharsets.US_ASCII)), note));
        Path kernel = TestImages.write(dir, "vmlinux", elf);
        try (TestGuest g = new TestGuest(64 * MIB)) {
            assertEquals(0x1000010, PvhLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820).rip());
            assertEquals(0, g.u32(Layout.BOOT_INFO + 0x0c), "no modules");
        }
    }

    private String refusal(byte[] image, long ram) throws IOException {
        Path kernel = TestImages.write(dir, "bad", image);
        try (TestGuest g = new TestGuest(ram)) {
            JkvmException ex = assertThrows(JkvmException.class,
                    () -> PvhLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820));
            assertTrue(g.zero(Layout.BOOT_INFO, 4096) && g.zero(Layout.BOOT_GDT, 32), "nothing written");
            assertFalse(ex.getMessage().contains("\n"));
            return ex.getMessage();
        }
    }

    @Test
    void refusesAnElfWithoutThePvhNote() throws IOException {
        byte[] elf = TestImages.elf(64, 0x1000000, List.of(new TestImages.Seg(0x1000000, new byte[16])), null);
        assertTrue(refusal(elf, 64 * MIB).contains("without a PVH entry note"));
    }

    @Test
    void refusesACorruptNote() throws IOException {
        byte[] elf = TestImages.elf(64, 0, List.of(new TestImages.Seg(0x1000000, new byte[16])),
                TestImages.note("Xen", 18, new byte[2]));
        assertTrue(refusal(elf, 64 * MIB).contains("corrupt PVH entry note"));
    }

    @Test
    void refusesSegmentsBeyondRam() throws IOException {
        byte[] elf = TestImages.elf(64, 0, List.of(new TestImages.Seg(0x1000000, 0x1000000, new byte[16], 64 * MIB)),
                TestImages.pvhNote(0x1000000));
        assertTrue(refusal(elf, 64 * MIB).contains("too large for the guest's RAM"));
    }

    @Test
    void refusesAnEntryOutsideTheSegments() throws IOException {
        byte[] elf = TestImages.elf(64, 0, List.of(new TestImages.Seg(0x1000000, new byte[16])), TestImages.pvhNote(0x2000000));
        assertTrue(refusal(elf, 64 * MIB).contains("entry point 0x2000000 is outside"));
    }

    @Test
    void refusesBigEndianAndTruncatedFiles() throws IOException {
        byte[] elf = TestKernels.pvhElf();
        byte[] big = elf.clone();
        big[5] = 2;
        assertTrue(refusal(big, 64 * MIB).contains("big-endian"));
        assertTrue(refusal(Arrays.copyOf(elf, 100), 64 * MIB).contains("truncated"));
        byte[] noPhdrs = elf.clone();
        noPhdrs[56] = 0;
        noPhdrs[57] = 0;
        assertTrue(refusal(noPhdrs, 64 * MIB).contains("no program headers"));
    }
}
