package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.Segment;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.board.Layout;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MultibootLoaderTest {

    @TempDir
    Path dir;

    private Path module(String name, String text) throws IOException {
        return TestImages.write(dir, name, (text + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void loadsAnElf32KernelItsModulesAndTheInfoStructure() throws IOException {
        Path kernel = TestImages.write(dir, "kernel.elf", TestKernels.multibootElf());
        Path m1 = module("mod1", "first module");
        Path m2 = TestImages.write(dir, "mod2", new byte[5000]);
        try (TestGuest g = new TestGuest(128 * MIB)) {
            // Garbage where the bss goes: the loader must clear it.
            g.memory.slice(TestKernels.MB_LOAD + 0x1000, 0x2000).fill((byte) 0xaa);
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, m1 + " a1 a2," + m2, "console=ttyS0"), g.memory, g.e820);

            assertEquals(BootEntry.Mode.PROTECTED_32, e.mode());
            assertEquals(TestKernels.MB_ELF_ENTRY, e.rip());
            assertEquals(0x2BADB002L, e.rax());
            assertEquals(Layout.BOOT_INFO, e.rbx());
            assertEquals(BootEntry.CR0_PE | BootEntry.CR0_ET, e.cr0());
            assertEquals(0, e.efer());

            byte[] text = TestKernels.multibootElfText();
            assertArrayEquals(text, g.memory.read(TestKernels.MB_LOAD, text.length));
            assertTrue(g.zero(TestKernels.MB_LOAD + text.length, (int) TestKernels.MB_BSS), "bss cleared");

            long info = e.rbx();
            int flags = g.u32(info);
            assertEquals(0x24d, flags, "memory, cmdline, mods, mmap, boot_loader_name");
            assertEquals(639, g.u32(info + 4), "mem_lower: KiB below the EBDA");
            assertEquals(127 * 1024, g.u32(info + 8), "mem_upper: KiB from 1 MiB");
            assertEquals(kernel + " console=ttyS0", g.cstring(g.u32(info + 16)));
            assertEquals("jkvm", g.cstring(g.u32(info + 64)));

            assertEquals(2, g.u32(info + 20));
            long mods = Integer.toUnsignedLong(g.u32(info + 24));
            long kernelEnd = TestKernels.MB_LOAD + text.length + TestKernels.MB_BSS;
            long mod1 = g.u32(mods);
            assertEquals(0, mod1 % 4096, "page-aligned");
            assertTrue(mod1 >= kernelEnd, "after the kernel");
            assertEquals(mod1 + Files.size(m1), g.u32(mods + 4));
            assertEquals(m1 + " a1 a2", g.cstring(g.u32(mods + 8)));
            assertEquals("first module", g.cstring(mod1));
            long mod2 = g.u32(mods + 16);
            assertEquals(RamPlanner.alignUp(mod1 + Files.size(m1), 4096), mod2, "the next page after the first");
            assertEquals(mod2 + 5000, g.u32(mods + 20));
            assertEquals(m2.toString(), g.cstring(g.u32(mods + 24)));

            byte[] mmap = g.e820.multiboot();
            assertEquals(mmap.length, g.u32(info + 44));
            assertArrayEquals(mmap, g.memory.read(g.u32(info + 48), mmap.length));

            assertArrayEquals(Gdt.bytes(Gdt.flat(false)), g.memory.read(Layout.BOOT_GDT, 32));
            assertTrue(e.placements().stream().anyMatch(p -> p.what().startsWith("module") && p.base() == mod2));
        }
    }

    @Test
    void theCommandLineIsQemusKernelPathSpaceAppend() throws IOException {
        Path kernel = TestImages.write(dir, "k", TestKernels.multibootElf());
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, null, null), g.memory, g.e820);
            assertEquals(kernel + " ", g.cstring(g.u32(e.rbx() + 16)));
            assertEquals(0, g.u32(e.rbx() + 20), "no modules");
        }
    }

    @Test
    void entryStateIsFlat32BitProtectedMode() throws IOException {
        Path kernel = TestImages.write(dir, "k", TestKernels.multibootElf());
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820);
            Segment cs = e.codeSegment();
            assertEquals(0x10, cs.selector());
            assertEquals(0, cs.base());
            assertEquals(0xffffffff, cs.limit());
            assertEquals(0xb, cs.type());
            assertTrue(cs.db() && cs.g() && cs.present() && cs.s());
            assertFalse(cs.l());
            Segment ds = e.dataSegment();
            assertEquals(0x18, ds.selector());
            assertEquals(0x3, ds.type());
            assertEquals(0x2, e.regs().rflags(), "interrupts off");
        }
    }

    @Test
    void loadsByTheAoutKludgeAddressFields() throws IOException {
        byte[] image = TestKernels.multibootAout(0x2000);
        Path kernel = TestImages.write(dir, "kernel.bin", image);
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820);
            assertEquals(TestKernels.MB_AOUT_ENTRY, e.rip());
            assertArrayEquals(image, g.memory.read(TestKernels.MB_LOAD, image.length));
            assertTrue(e.placements().contains(new BootEntry.Placement("kernel", TestKernels.MB_LOAD, image.length + 0x2000)));
        }
    }

    @Test
    void theKludgeWinsOverElf() throws IOException {
        // An ELF64 file (which QEMU refuses without the kludge) whose header carries the address fields.
        byte[] kludge = TestImages.multibootKludgeHeader(0, 0x200000, 0x200000, 0, 0, 0x200000 + 32);
        byte[] elf = TestImages.elf(64, 0x1234, List.of(new TestImages.Seg(0x400000, kludge)), null);
        Path kernel = TestImages.write(dir, "k64", elf);
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820);
            assertEquals(0x200020, e.rip());
            assertArrayEquals(kludge, g.memory.read(0x200000, kludge.length));
        }
    }

    @Test
    void anEntryGivenAsAVirtualAddressRunsAtItsPhysicalOne() throws IOException {
        byte[] header = TestImages.multibootHeader(0, false);
        byte[] text = TestImages.concat(header, new byte[] {(byte) 0xf4});
        byte[] elf = TestImages.elf(32, 0xc010000cL, List.of(new TestImages.Seg(0x100000, 0xc0100000L, text, text.length)), null);
        Path kernel = TestImages.write(dir, "higher-half", elf);
        try (TestGuest g = new TestGuest(64 * MIB)) {
            assertEquals(0x10000c, MultibootLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820).rip());
        }
    }

    private String refusal(byte[] image, String initrd, long ram) throws IOException {
        Path kernel = TestImages.write(dir, "bad", image);
        try (TestGuest g = new TestGuest(ram)) {
            JkvmException ex = assertThrows(JkvmException.class,
                    () -> MultibootLoader.load(new BootRequest(kernel, initrd, ""), g.memory, g.e820));
            assertTrue(g.zero(0x100000, 0x10000) && g.zero(Layout.BOOT_INFO, 4096) && g.zero(Layout.BOOT_GDT, 32),
                    "nothing written before the refusal");
            assertFalse(ex.getMessage().contains("\n"), "one line");
            assertTrue(ex.getMessage().startsWith("-kernel " + kernel + ": ") || ex.getMessage().startsWith("-initrd "),
                    ex.getMessage());
            return ex.getMessage();
        }
    }

    @Test
    void refusesABadChecksum() throws IOException {
        byte[] image = TestImages.concat(TestImages.multibootHeader(0, true), new byte[64]);
        assertTrue(refusal(image, null, 64 * MIB).contains("bad checksum"));
    }

    @Test
    void refusesRequiredFeaturesItLacks() throws IOException {
        byte[] image = TestImages.concat(TestImages.multibootHeader(1 << 3, false), new byte[64]);
        assertTrue(refusal(image, null, 64 * MIB).contains("requires features jkvm lacks (flags 0x8)"));
    }

    @Test
    void refusesANonElfWithoutAddressFields() throws IOException {
        byte[] image = TestImages.concat(new byte[16], TestImages.multibootHeader(0, false), new byte[64]);
        assertTrue(refusal(image, null, 64 * MIB).contains("not ELF"));
    }

    @Test
    void refusesElf64WithoutTheKludgeAsQemuDoes() throws IOException {
        byte[] text = TestImages.multibootHeader(0, false);
        byte[] elf = TestImages.elf(64, 0x100000, List.of(new TestImages.Seg(0x100000, text)), null);
        assertTrue(refusal(elf, null, 64 * MIB).contains("give a 32-bit ELF"));
    }

    @Test
    void refusesATruncatedKludgeImage() throws IOException {
        byte[] header = TestImages.multibootKludgeHeader(0, 0x100000, 0x100000, 0x100000 + 0x10000, 0, 0x100020);
        assertTrue(refusal(TestImages.concat(header, new byte[100]), null, 64 * MIB).contains("truncated"));
    }

    @Test
    void refusesATruncatedElf() throws IOException {
        byte[] elf = TestKernels.multibootElf();
        byte[] cut = Arrays.copyOf(elf, 0x1000 + 40);
        assertTrue(refusal(cut, null, 64 * MIB).contains("truncated"));
    }

    @Test
    void refusesAKernelThatLoadsBeyondRam() throws IOException {
        byte[] header = TestImages.multibootHeader(0, false);
        byte[] elf = TestImages.elf(32, 0x3f00000, List.of(new TestImages.Seg(0x3f00000, 0x3f00000, header, 32 * MIB)), null);
        assertTrue(refusal(elf, null, 64 * MIB).contains("too large for the guest's RAM"));
    }

    @Test
    void aKernelLinkedAt0x8000GetsItsInfoAboveItself() throws IOException {
        byte[] header = TestImages.multibootHeader(0, false);
        byte[] elf = TestImages.elf(32, 0x8000, List.of(new TestImages.Seg(0x8000, 0x8000, header, 0x286c)), null);
        Path kernel = TestImages.write(dir, "k8000.elf", elf);
        Path env = module("env", "TESTNAME=x");
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, env.toString(), "a=1"), g.memory, g.e820);
            assertEquals(Layout.BOOT_INFO, e.rbx(), "0x7000 is still free");
            long mmap = Integer.toUnsignedLong(g.u32(e.rbx() + 48));
            assertTrue(mmap >= 0xb000, "the mmap moved above the kernel's 0x8000-0xa86b: " + Long.toHexString(mmap));
            assertArrayEquals(header, g.memory.read(0x8000, header.length));
            assertEquals(kernel + " a=1", g.cstring(g.u32(e.rbx() + 16)));
            assertEquals(1, g.u32(e.rbx() + 20), "-initrd FILE is one module");
            long mods = Integer.toUnsignedLong(g.u32(e.rbx() + 24));
            assertEquals("TESTNAME=x", g.cstring(g.u32(mods)));
            assertEquals(env.toString(), g.cstring(g.u32(mods + 8)));
            for (BootEntry.Placement p : e.placements()) {
                if (!p.what().equals("kernel")) {
                    assertTrue(!p.overlaps(0x8000, 0x286c), p + " overlaps the kernel");
                }
            }
        }
    }

    @Test
    void aKernelOverTheInfoPageMovesItToo() throws IOException {
        byte[] header = TestImages.multibootHeader(0, false);
        byte[] elf = TestImages.elf(32, 0x7000, List.of(new TestImages.Seg(0x7000, header)), null);
        Path kernel = TestImages.write(dir, "k7000.elf", elf);
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = MultibootLoader.load(new BootRequest(kernel, null, null), g.memory, g.e820);
            assertTrue(e.rbx() >= 0x8000, Long.toHexString(e.rbx()));
            assertEquals(kernel + " ", g.cstring(g.u32(e.rbx() + 16)));
        }
    }

    @Test
    void refusesAKernelOverTheBootStack() throws IOException {
        byte[] header = TestImages.multibootHeader(0, false);
        byte[] elf = TestImages.elf(32, 0x4000, List.of(new TestImages.Seg(0x4000, header)), null);
        String m = refusal(elf, null, 64 * MIB);
        assertTrue(m.contains("over the boot stack"), m);
    }

    @Test
    void refusesAnEntryOutsideTheKernel() throws IOException {
        byte[] text = TestImages.multibootHeader(0, false);
        byte[] elf = TestImages.elf(32, 0x500000, List.of(new TestImages.Seg(0x100000, text)), null);
        assertTrue(refusal(elf, null, 64 * MIB).contains("entry point 0x500000 is outside"));
    }

    @Test
    void refusesAModuleLargerThanRam() throws IOException {
        Path big = dir.resolve("big");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(65 * MIB); // sparse: costs nothing
        }
        String m = refusal(TestKernels.multibootElf(), big.toString(), 64 * MIB);
        assertTrue(m.startsWith("-initrd " + big + ": too large for the guest's RAM"), m);
    }

    @Test
    void refusesModulesThatDoNotFitTogether() throws IOException {
        Path big = dir.resolve("big");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(40 * MIB);
        }
        String m = refusal(TestKernels.multibootElf(), big + "," + big, 64 * MIB);
        assertTrue(m.contains("no room for this 40.0 MiB module"), m);
    }

    @Test
    void refusesAMissingModule() throws IOException {
        String m = refusal(TestKernels.multibootElf(), dir.resolve("nothing") + " arg", 64 * MIB);
        assertEquals("-initrd " + dir.resolve("nothing") + ": no such file", m);
    }

    @Test
    void theInfoStructureDescribesMemoryFromTheE820Map() {
        try (TestGuest g = new TestGuest(3584 * MIB)) {
            ByteBuffer b = Elf.le(MultibootLoader.info(g.e820, 0x20000, 0, Layout.BOOT_INFO + MultibootLoader.INFO_SIZE, 24 * 6, Layout.BOOT_MEMORY_MAP, 0x20010));
            assertEquals(639, b.getInt(4));
            assertEquals((0xc0000000L - MIB) / 1024, b.getInt(8), "up to the 32-bit hole");
            assertEquals(24 * 6, b.getInt(44));
            assertEquals(Layout.BOOT_MEMORY_MAP, b.getInt(48));
        }
    }

    @Test
    void modulesAreSplitAsQemuSplitsThem() {
        List<MultibootModules.Module> m = MultibootModules.parse("a/b x=1 y,c,d,,e f");
        assertEquals(List.of(new MultibootModules.Module(Path.of("a/b"), "a/b x=1 y"),
                new MultibootModules.Module(Path.of("c"), "c"),
                new MultibootModules.Module(Path.of("d,e"), "d,e f")), m);
        assertEquals(List.of(), MultibootModules.parse(null));
        assertThrows(JkvmException.class, () -> MultibootModules.parse("a,,,"));
    }
}
