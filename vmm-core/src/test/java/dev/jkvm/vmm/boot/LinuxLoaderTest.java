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
import dev.jkvm.vmm.memory.E820;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxLoaderTest {

    @TempDir
    Path dir;

    private static final int SETUP = 1024;

    private Path initrd(String text) throws IOException {
        return TestImages.write(dir, "initrd", (text + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void buildsTheZeroPageAndEntersAtStartup64() throws IOException {
        byte[] image = TestKernels.linux64BzImage();
        Path kernel = TestImages.write(dir, "bzImage", image);
        Path initrd = initrd("the initrd");
        long initrdSize = Files.size(initrd);
        try (TestGuest g = new TestGuest(128 * MIB)) {
            BootEntry e = LinuxLoader.load(new BootRequest(kernel, initrd.toString(), "console=ttyS0 quiet"), g.memory, g.e820);

            assertEquals(BootEntry.Mode.LONG_64, e.mode());
            assertEquals(0x100200, e.rip());
            assertEquals(Layout.BOOT_INFO, e.rsi());
            assertEquals(Layout.BOOT_PAGE_TABLES, e.cr3());
            assertEquals(BootEntry.CR4_PAE, e.cr4());
            assertEquals(BootEntry.EFER_LME | BootEntry.EFER_LMA, e.efer());
            assertEquals(BootEntry.CR0_PG | BootEntry.CR0_PE | BootEntry.CR0_ET, e.cr0());
            Segment cs = e.codeSegment();
            assertTrue(cs.l() && !cs.db() && cs.present());
            assertEquals(0x10, cs.selector());
            assertEquals(0x18, e.dataSegment().selector());

            assertArrayEquals(Arrays.copyOfRange(image, SETUP, image.length), g.memory.read(0x100000, image.length - SETUP));

            long zp = Layout.BOOT_INFO;
            ByteBuffer z = g.le(zp, 4096);
            assertEquals(LinuxSetupHeader.MAGIC, z.getInt(0x202), "the setup header is copied");
            assertEquals(0x020f, z.getShort(0x206));
            assertEquals((byte) 0xff, z.get(0x210), "type_of_loader");
            assertEquals((byte) 0x81, z.get(0x211), "LOADED_HIGH | CAN_USE_HEAP");
            assertEquals(0xde00, Short.toUnsignedInt(z.getShort(0x224)), "heap_end_ptr");
            assertEquals(0x20000, z.getInt(0x228), "cmd_line_ptr");
            assertEquals("console=ttyS0 quiet", g.cstring(z.getInt(0x228)));
            assertEquals(0, z.getInt(0x0c8), "ext_cmd_line_ptr");
            long ramdisk = Integer.toUnsignedLong(z.getInt(0x218));
            assertEquals((128 * MIB - initrdSize) & ~0xfffL, ramdisk, "page-aligned at the top of RAM");
            assertEquals(initrdSize, z.getInt(0x21c));
            assertEquals("the initrd", g.cstring(ramdisk));
            assertEquals(5, z.get(0x1e8), "e820_entries");
            byte[] table = g.e820.linuxBootParams();
            assertArrayEquals(table, g.memory.read(zp + 0x2d0, table.length));
            assertEquals(0, z.getLong(0x070), "no RSDP given");

            assertEquals(0xa003, g.u64(0x9000), "PML4[0] -> PDPT");
            assertEquals(0xe003, g.u64(0xa000 + 3 * 8), "PDPT[3] -> the 4th page directory");
            assertEquals(0x83, g.u64(0xb000), "2 MiB page at 0");
            assertEquals(0xffe00083L, g.u64(0xe000 + 511 * 8), "the last 2 MiB below 4 GiB");
            assertArrayEquals(Gdt.bytes(Gdt.flat(true)), g.memory.read(Layout.BOOT_GDT, 32));
        }
    }

    @Test
    void theInitrdStaysBelowRangesTheMachineReserved() throws IOException {
        Path kernel = TestImages.write(dir, "bzImage", TestKernels.linux64BzImage());
        Path initrd = initrd("x");
        try (TestGuest g = new TestGuest(128 * MIB, List.of(E820.Entry.acpi(0x7fe0000, 0x20000)))) {
            LinuxLoader.load(new BootRequest(kernel, initrd.toString(), "", 0xf5a40), g.memory, g.e820);
            assertEquals(0x7fdf000, g.u32(Layout.BOOT_INFO + 0x218));
            assertEquals(6, g.memory.read(Layout.BOOT_INFO + 0x1e8, 1)[0]);
            assertEquals(0xf5a40, g.u64(Layout.BOOT_INFO + 0x070), "acpi_rsdp_addr (protocol 2.14+)");
        }
    }

    @Test
    void theInitrdRespectsInitrdAddrMax() throws IOException {
        byte[] image = TestKernels.linux64BzImage();
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(0x22c, 0x37ffffff);
        Path kernel = TestImages.write(dir, "bzImage", image);
        Path initrd = initrd("y");
        try (TestGuest g = new TestGuest(2048 * MIB)) {
            LinuxLoader.load(new BootRequest(kernel, initrd.toString(), ""), g.memory, g.e820);
            assertEquals(0x37fff000, g.u32(Layout.BOOT_INFO + 0x218));
        }
    }

    @Test
    void aKernelWithoutA64BitEntryIsEnteredBy32BitProtocol() throws IOException {
        Path kernel = TestImages.write(dir, "bzImage32", TestImages.bzImage(new byte[4096], 0x020b, 0, 8 << 20));
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = LinuxLoader.load(new BootRequest(kernel, null, "ro"), g.memory, g.e820);
            assertEquals(BootEntry.Mode.PROTECTED_32, e.mode());
            assertEquals(0x100000, e.rip());
            assertEquals(Layout.BOOT_INFO, e.rsi());
            assertEquals(0, e.rbx());
            assertTrue(e.codeSegment().db() && !e.codeSegment().l());
            assertEquals(0, g.u32(Layout.BOOT_INFO + 0x218), "no initrd");
            assertTrue(g.zero(Layout.BOOT_PAGE_TABLES, 4096), "no page tables for a 32-bit entry");
        }
    }

    @Test
    void parsesTheRealDebianKernelHeaderWhenItCanBeHadElseASyntheticOne() throws IOException {
        Path kernel;
        Path initrd;
        boolean real;
        try {
            DebianKernel d = DebianKernel.obtain(false);
            kernel = d.kernel();
            initrd = d.initrd();
            real = true;
        } catch (IllegalStateException e) {
            System.err.println("LinuxLoaderTest: no Debian kernel (" + e.getMessage() + "): using a synthetic bzImage");
            kernel = TestImages.write(dir, "bzImage", TestKernels.linux64BzImage());
            initrd = initrd("synthetic");
            real = false;
        }
        try (ImageFile f = ImageFile.open("-kernel", kernel)) {
            LinuxSetupHeader h = LinuxSetupHeader.parse(f, f.head(8192));
            assertTrue(h.version() >= 0x020c, "protocol " + LinuxSetupHeader.versionName(h.version()));
            assertTrue(h.kernel64());
            assertTrue(h.relocatable());
            assertEquals(0x1000000, h.prefAddress(), "LOAD_PHYSICAL_ADDR");
            assertTrue(h.initSize() > 0);
            assertTrue(h.cmdlineSize() >= 255);
            if (real) {
                assertEquals(0x200000, h.kernelAlignment());
            }
        }
        try (TestGuest g = new TestGuest(256 * MIB)) {
            BootEntry e = LinuxLoader.load(new BootRequest(kernel, initrd.toString(), "console=ttyS0"), g.memory, g.e820);
            assertEquals(0x100200, e.rip());
            BootEntry.Placement k = e.placements().stream().filter(p -> p.what().startsWith("kernel")).findFirst().orElseThrow();
            BootEntry.Placement i = e.placements().stream().filter(p -> p.what().equals("initrd")).findFirst().orElseThrow();
            assertTrue(i.base() >= k.end() && i.end() <= 256 * MIB, i + " above " + k);
            byte[] file = Files.readAllBytes(kernel);
            long setup = ((file[0x1f1] == 0 ? 4 : file[0x1f1] & 0xff) + 1) * 512L;
            assertArrayEquals(Arrays.copyOfRange(file, (int) setup, (int) setup + 4096), g.memory.read(0x100000, 4096));
        }
    }

    private String refusal(byte[] image, String initrd, String append, long ram) throws IOException {
        Path kernel = TestImages.write(dir, "bad", image);
        try (TestGuest g = new TestGuest(ram)) {
            JkvmException ex = assertThrows(JkvmException.class,
                    () -> LinuxLoader.load(new BootRequest(kernel, initrd, append), g.memory, g.e820));
            assertTrue(g.zero(0x100000, 0x10000) && g.zero(Layout.BOOT_INFO, 4096) && g.zero(Layout.BOOT_PAGE_TABLES, 4096),
                    "nothing written before the refusal");
            assertFalse(ex.getMessage().contains("\n"), "one line");
            return ex.getMessage();
        }
    }

    private static byte[] patched(byte[] image, int at, int value, int size) {
        ByteBuffer b = ByteBuffer.wrap(image.clone()).order(ByteOrder.LITTLE_ENDIAN);
        switch (size) {
            case 1 -> b.put(at, (byte) value);
            case 2 -> b.putShort(at, (short) value);
            default -> b.putInt(at, value);
        }
        return b.array();
    }

    @Test
    void refusesAWrongBootFlag() throws IOException {
        String m = refusal(patched(TestKernels.linux64BzImage(), 0x1fe, 0x1234, 2), null, "", 64 * MIB);
        assertTrue(m.endsWith("not a Linux kernel image (boot flag 0x1234, expected 0xaa55)"), m);
    }

    @Test
    void refusesAnOldProtocol() throws IOException {
        String m = refusal(patched(TestKernels.linux64BzImage(), 0x206, 0x0205, 2), null, "", 64 * MIB);
        assertTrue(m.contains("unsupported version: Linux boot protocol 2.05"), m);
    }

    @Test
    void refusesAZImage() throws IOException {
        String m = refusal(patched(TestKernels.linux64BzImage(), 0x211, 0, 1), null, "", 64 * MIB);
        assertTrue(m.contains("a zImage"), m);
    }

    @Test
    void refusesATruncatedKernel() throws IOException {
        byte[] image = TestKernels.linux64BzImage();
        String m = refusal(Arrays.copyOf(image, image.length - 64), null, "", 64 * MIB);
        assertTrue(m.contains("truncated"), m);
        assertTrue(refusal(Arrays.copyOf(image, 0x300), null, "", 64 * MIB).contains("truncated"));
    }

    @Test
    void refusesAKernelThatNeedsMoreRamThanTheGuestHas() throws IOException {
        byte[] image = patched(TestKernels.linux64BzImage(), 0x260, 100 << 20, 4);
        String m = refusal(image, null, "", 64 * MIB);
        assertTrue(m.contains("too large for the guest's RAM: the kernel needs RAM from 1 MiB to 0x7400000"), m);
    }

    @Test
    void refusesAnInitrdThatDoesNotFit() throws IOException {
        Path big = dir.resolve("big.img");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(40 * MIB);
        }
        String m = refusal(TestKernels.linux64BzImage(), big.toString(), "", 64 * MIB);
        assertTrue(m.startsWith("-initrd " + big + ": too large for the guest's RAM: no room for this 40.0 MiB initrd"), m);
    }

    @Test
    void refusesATooLongCommandLine() throws IOException {
        String m = refusal(TestKernels.linux64BzImage(), null, "x".repeat(2048), 64 * MIB);
        assertTrue(m.endsWith("the command line (-append) is 2048 bytes, this kernel takes at most 2047"), m);
    }
}
