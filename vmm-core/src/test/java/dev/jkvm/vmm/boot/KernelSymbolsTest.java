package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.JkvmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The symbol table of ELF kernels, checked against binutils' {@code nm} on the bundled test kernels. */
class KernelSymbolsTest {

    /** What {@code nm -S --defined-only} says: name to (address, size or -1), for names defined once. */
    private static Map<String, long[]> nm(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("nm", "-S", "--defined-only", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        Map<String, long[]> seen = new HashMap<>();
        Map<String, Integer> count = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 3) {
                continue;
            }
            String name = f[f.length - 1];
            long size = f.length == 4 ? Long.parseUnsignedLong(f[1], 16) : -1;
            seen.put(name, new long[] {Long.parseUnsignedLong(f[0], 16), size});
            count.merge(name, 1, Integer::sum);
        }
        count.forEach((name, n) -> {
            if (n > 1) {
                seen.remove(name);
            }
        });
        return seen;
    }

    private static void sameAsNm(Path file) throws Exception {
        KernelSymbols syms = KernelSymbols.read(file);
        Map<String, long[]> expected = nm(file);
        assertTrue(expected.size() > 50, "nm lists the kernel's symbols: " + expected.size());
        expected.forEach((name, as) -> {
            KernelSymbols.Symbol s = syms.find(name).orElseThrow(() -> new AssertionError("no " + name + " in " + syms));
            assertEquals(as[0], s.address(), name);
            if (as[1] >= 0) {
                assertEquals(as[1], s.size(), name);
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"meminfo", "cpuinfo", "acpi", "ticks"})
    void theBundledElf32KernelsHaveTheSymbolsNmLists(String kernel) throws Exception {
        try (KernelImage image = KernelImage.resolve(kernel)) {
            sameAsNm(image.path());
            KernelSymbols syms = KernelSymbols.read(image.path());
            // the Multiboot kernels are linked where they load: address and physical address agree
            KernelSymbols.Symbol kmain = syms.find("kmain").orElseThrow();
            assertEquals(KernelSymbols.Kind.FUNC, kmain.kind());
            assertTrue(kmain.global());
            assertEquals(OptionalLong.of(kmain.address()), syms.physicalAddress("kmain"));
        }
    }

    @Test
    void anElf64KernelWithDebugInformation() throws Exception {
        Path elf64 = BuildOutput.meminfoElf64();
        assertTrue(Files.exists(elf64), "built by guest-images: " + elf64);
        sameAsNm(elf64);
        KernelSymbols.Symbol v = KernelSymbols.read(elf64).find("watched_var").orElseThrow();
        assertEquals(8, v.size());
        assertEquals(KernelSymbols.Kind.OBJECT, v.kind());
    }

    @Test
    void aLocalNameDefinedInSeveralFilesGivesTheGlobalOneOrTheFirst() throws Exception {
        try (KernelImage image = KernelImage.resolve("meminfo")) {
            KernelSymbols syms = KernelSymbols.read(image.path());
            assertFalse(syms.find("no_such_symbol").isPresent());
            assertFalse(syms.find("").isPresent(), "nameless entries are not symbols");
            assertTrue(syms.find("watched_var").orElseThrow().global());
        }
    }

    @Test
    void physicalAddressesFollowTheSegmentsOfAKernelLinkedHigh(@TempDir Path dir) throws IOException {
        long vbase = 0xffffffff81000000L;
        byte[] text = new byte[0x2000];
        Path f = dir.resolve("high.elf");
        Files.write(f, TestImages.elf(64, vbase, List.of(new TestImages.Seg(0x1000000, vbase, text, 0x3000)), null));
        KernelSymbols syms = KernelSymbols.read(f);
        assertEquals(0, syms.size(), "no section headers, no symbols");
        assertEquals(OptionalLong.of(0x1000123), syms.physicalAddress(vbase + 0x123));
        assertEquals(OptionalLong.of(0x1002fff), syms.physicalAddress(vbase + 0x2fff), "bss is loaded too");
        assertEquals(OptionalLong.empty(), syms.physicalAddress(vbase + 0x3000));
        assertEquals(OptionalLong.empty(), syms.physicalAddress(0x1000000));
    }

    @Test
    void aFlatImageHasNoSymbols(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("flat.bin");
        Files.write(f, new byte[] {(byte) 0xf4, 0, 0, 0});
        assertEquals(0, KernelSymbols.read(f).size());
    }

    @Test
    void aTruncatedSymbolTableIsRefusedInOneLine(@TempDir Path dir) throws IOException {
        try (KernelImage image = KernelImage.resolve("meminfo")) {
            byte[] whole = Files.readAllBytes(image.path());
            // cut inside .symtab, keeping the section headers (which come last) pointing at it
            Path f = dir.resolve("cut.elf");
            byte[] cut = Arrays.copyOf(whole, whole.length);
            java.nio.ByteBuffer h = Elf.le(cut);
            long shoff = Integer.toUnsignedLong(h.getInt(32));
            int shnum = Short.toUnsignedInt(h.getShort(48));
            for (int i = 0; i < shnum; i++) {
                int at = (int) shoff + i * 40;
                if (h.getInt(at + 4) == KernelSymbols.SHT_SYMTAB) {
                    h.putInt(at + 20, 0x7fff0000); // a size past the end of the file
                }
            }
            Files.write(f, cut);
            JkvmException e = assertThrows(JkvmException.class, () -> KernelSymbols.read(f));
            assertTrue(e.getMessage().startsWith("-kernel " + f + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
