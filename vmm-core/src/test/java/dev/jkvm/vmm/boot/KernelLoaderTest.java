package dev.jkvm.vmm.boot;

import static dev.jkvm.vmm.memory.MemoryMap.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jkvm.vmm.JkvmException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLoaderTest {

    @TempDir
    Path dir;

    @Test
    void detectsEachFormatInQemusOrder() throws IOException {
        assertEquals(KernelLoader.Format.LINUX, KernelLoader.detect(TestImages.write(dir, "bz", TestKernels.linux64BzImage())));
        assertEquals(KernelLoader.Format.MULTIBOOT, KernelLoader.detect(TestImages.write(dir, "mb", TestKernels.multibootElf())));
        assertEquals(KernelLoader.Format.MULTIBOOT, KernelLoader.detect(TestImages.write(dir, "aout", TestKernels.multibootAout(0))));
        assertEquals(KernelLoader.Format.PVH, KernelLoader.detect(TestImages.write(dir, "pvh", TestKernels.pvhElf())));
    }

    @Test
    void loadsByTheDetectedFormat() throws IOException {
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = KernelLoader.load(new BootRequest(TestImages.write(dir, "pvh", TestKernels.pvhElf()), null, ""),
                    g.memory, g.e820);
            assertEquals(PvhLoader.FORMAT, e.format());
        }
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = KernelLoader.load(new BootRequest(TestImages.write(dir, "mb", TestKernels.multibootElf()), null, ""),
                    g.memory, g.e820);
            assertEquals(MultibootLoader.FORMAT, e.format());
        }
        try (TestGuest g = new TestGuest(64 * MIB)) {
            BootEntry e = KernelLoader.load(new BootRequest(TestImages.write(dir, "bz", TestKernels.linux64BzImage()), null, ""),
                    g.memory, g.e820);
            assertEquals(LinuxLoader.FORMAT, e.format());
        }
    }

    private static String refusal(Path kernel) {
        try (TestGuest g = new TestGuest(64 * MIB)) {
            return assertThrows(JkvmException.class,
                    () -> KernelLoader.load(new BootRequest(kernel, null, ""), g.memory, g.e820)).getMessage();
        }
    }

    @Test
    void refusesNoneOfTheKnownFormats() throws IOException {
        Path junk = TestImages.write(dir, "junk", "just some text, not a kernel\n".repeat(100).getBytes());
        assertEquals("-kernel " + junk + ": none of the known formats (wrong magic): not a Linux bzImage (no \"HdrS\" at 0x202), "
                + "no Multiboot header in the first 8 KiB, not ELF", refusal(junk));
    }

    @Test
    void refusesWhatCannotBeRead() throws IOException {
        Path missing = dir.resolve("missing");
        assertEquals("-kernel " + missing + ": could not open kernel file '" + missing + "': No such file or directory",
                refusal(missing));
        assertEquals("-kernel " + dir + ": is a directory", refusal(dir));
        Path empty = Files.createFile(dir.resolve("empty"));
        assertEquals("-kernel " + empty + ": the file is empty", refusal(empty));
    }

    @Test
    void refusesAKernelLargerThanRamBeforeReadingIt() throws IOException {
        Path big = dir.resolve("big");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(65 * MIB);
        }
        assertEquals("-kernel " + big + ": too large for the guest's RAM: 65.0 MiB file, 64.0 MiB of RAM (give more -m)",
                refusal(big));
    }
}
