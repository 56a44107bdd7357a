package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.boot.RomImage;
import dev.jkvm.vmm.stats.UserModeStats;
import dev.jkvm.vmm.stats.VcpuReport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The legacy area 0xC0000-0xFFFFF from inside the guest, as QEMU's {@code pc} shows it: pc.rom
 * (zeros the guest only reads), RAM from 0xE0000 below a ROM smaller than 128 KiB, the ROM's last
 * 128 KiB at most below 1 MiB (read-only). {@code legacy-scan.rom} and the {@code legacy-probe}
 * kernel read a dword from every 16-byte paragraph of it (the step of an OS's DMI, MP and RSDP
 * scans), store into each 16 KiB block and print what they saw; the lines are checked against the
 * bytes that must be there, and not one of those reads may reach jkvm as an MMIO exit (each store
 * into a read-only block is one: KVM reports it, jkvm drops it). Where Debian's QEMU is installed,
 * the same ROMs run under it and must print the same lines.
 */
@RequiresKvm
class LegacyRomAreaTest {

    private static final Duration WAIT = Duration.ofSeconds(System.getenv("JKVM_IN_VM") != null ? 480 : 120);
    private static final Pattern BLOCK = Pattern.compile(
            "^block (\\p{XDigit}{5}) zero=\\p{XDigit}{4} ones=\\p{XDigit}{4} fnv=\\p{XDigit}{8} write=(kept|changed)\\r?$",
            Pattern.MULTILINE);
    private static final long AREA = 0xc0000;
    private static final long END = 0x100000;
    private static final int BLOCK_SIZE = 0x4000;
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    @TempDir
    Path dir;

    /** What one run printed and how many MMIO exits reached jkvm in the area, reads and writes apart. */
    private record Run(String serial, RunResult result, long reads, long writes, boolean romWritable, byte[] rsdp) {
        List<String> blocks() {
            List<String> out = new ArrayList<>();
            Matcher m = BLOCK.matcher(serial);
            while (m.find()) {
                out.add(m.group().strip());
            }
            return out;
        }
    }

    private static Run jkvm(String doneLine, String... args) throws InterruptedException {
        try (Machine m = DevicesGuestTest.machine(args)) {
            m.start();
            m.serial().awaitLine(Pattern.compile(Pattern.quote(doneLine)), WAIT)
                    .orElseThrow(() -> new AssertionError("no '" + doneLine + "' in:\n" + m.serial().tail(30)));
            RunResult r = m.run(WAIT);
            long reads = 0, writes = 0;
            for (VcpuReport v : m.reports()) {
                for (UserModeStats.ByPage p : v.user().mmio()) {
                    if (p.page() >= AREA && p.page() < END) {
                        if (p.write()) {
                            writes += p.count();
                        } else {
                            reads += p.count();
                        }
                    }
                }
            }
            return new Run(m.serial().transcript(), r, reads, writes, m.memory().romWritable(),
                    m.tables().rsdpBytes().orElse(null));
        }
    }

    /** The line the guests print for the 16 KiB at {@code base} holding {@code bytes} (from {@code offset}). */
    static String blockLine(long base, byte[] bytes, int offset, String write) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int zero = 0, ones = 0, fnv = 0x811c9dc5;
        for (int p = offset; p < offset + BLOCK_SIZE; p += 16) {
            int v = b.getInt(p);
            zero += v == 0 ? 1 : 0;
            ones += v == -1 ? 1 : 0;
            fnv = (fnv ^ v) * 0x01000193;
        }
        return String.format("block %05x zero=%04x ones=%04x fnv=%08x write=%s", base, zero, ones, fnv, write);
    }

    /**
     * The lines for the whole area: pc.rom's zeros, then {@code low} (RAM's zeros, or the ROM's
     * first half) up to where {@code rom}'s last 64 KiB show at 0xF0000.
     */
    private static List<String> expected(byte[] rom, boolean romWritable, boolean eSegmentIsRam) {
        String ro = romWritable ? "changed" : "kept";
        byte[] zeros = new byte[BLOCK_SIZE];
        List<String> out = new ArrayList<>();
        for (long b = AREA; b < 0xe0000; b += BLOCK_SIZE) {
            out.add(blockLine(b, zeros, 0, ro));
        }
        for (long b = 0xe0000; b < END; b += BLOCK_SIZE) {
            int inRom = (int) (rom.length - (END - b)); // the alias shows the ROM's last bytes
            if (b < 0xf0000 && eSegmentIsRam) {
                out.add(blockLine(b, zeros, 0, "changed"));
            } else {
                out.add(blockLine(b, rom, inRom, ro));
            }
        }
        return out;
    }

    private static void assertNoReadExits(Run r, long readOnlyBlocks) {
        assertEquals(0, r.reads(), "MMIO read exits in 0xc0000-0xfffff:\n" + r.serial());
        assertEquals(r.romWritable() ? 0 : readOnlyBlocks, r.writes(), "one MMIO write exit per store into a read-only block");
    }

    @Test
    void aRomGuestReadsPcRomTheRamBelowA64KibRomAndItsAliasWithoutAnExit() throws Exception {
        Run r = jkvm("legacy-scan done", "-bios", "legacy-scan");
        assertEquals(RunResult.Reason.DEBUG_EXIT, r.result().reason(), r.serial());
        assertEquals(33, r.result().exitStatus());
        assertEquals(expected(RomImage.bundled("legacy-scan").bytes(), r.romWritable(), true), r.blocks(), r.serial());
        assertNoReadExits(r, 12);
        compareWithQemu(r, RomImage.bundled("legacy-scan").bytes(), "legacy-scan.rom");
    }

    @Test
    void a128KibRomShowsItsFirstHalfAt0xE0000ReadOnly() throws Exception {
        byte[] small = RomImage.bundled("legacy-scan").bytes();
        byte[] rom = new byte[2 * small.length];
        for (int i = 0; i < small.length; i++) {
            rom[i] = (byte) (i * 7 + (i >> 14) * 13 + 3); // differs block by block: a misplaced alias shows
        }
        System.arraycopy(small, 0, rom, small.length, small.length);
        Path file = dir.resolve("legacy-scan-128k.rom");
        Files.write(file, rom);
        Run r = jkvm("legacy-scan done", "-bios", file.toString());
        assertEquals(33, r.result().exitStatus(), r.serial());
        assertEquals(expected(rom, r.romWritable(), false), r.blocks(), r.serial());
        assertNoReadExits(r, 16);
        compareWithQemu(r, rom, file.getFileName().toString());
    }

    /**
     * A kernel boot: the default ROM never runs, its F segment holds the RSDP's copy; pc.rom has no
     * option ROM (Linux's probe finds none), and the whole scan costs no exit.
     */
    @Test
    void aKernelSeesNoOptionRomTheRsdpCopyAndNoExitForItsScans() throws Exception {
        Run r = jkvm("legacy-probe done", "-kernel", "legacy-probe", "-m", "128M");
        assertEquals(33, r.result().exitStatus(), r.serial());
        Matcher rsdp = Pattern.compile("^rsdp at=0x(f\\p{XDigit}{4})\\r?$", Pattern.MULTILINE).matcher(r.serial());
        assertTrue(rsdp.find(), r.serial());
        long at = Long.parseLong(rsdp.group(1), 16);
        assertTrue(!rsdp.find(), "one RSDP in the BIOS area:\n" + r.serial());
        // the firmware's bytes with the RSDP's copy in them, from the tables jkvm laid out
        byte[] hello = RomImage.bundled("hello").bytes().clone();
        System.arraycopy(r.rsdp(), 0, hello, (int) (at - 0xf0000), r.rsdp().length);
        assertEquals(expected(hello, r.romWritable(), true), r.blocks(), r.serial());
        assertTrue(r.serial().contains("roms found=0"), r.serial());
        assertTrue(!r.serial().contains("mp at=") && !r.serial().contains("smbios at="),
                "jkvm's MP floating pointer is in the EBDA, and it has no SMBIOS:\n" + r.serial());
        assertNoReadExits(r, 12);
        if (Files.isExecutable(QEMU)) {
            // Under QEMU, SeaBIOS ran first: its code, option ROMs and tables fill the area (and its
            // shadow RAM takes writes); the kernel finds its RSDP in the F segment as here.
            String q = qemu("-kernel", guestFile("legacy-probe.elf").toString(), "-m", "128M");
            System.out.println("legacy-probe, jkvm | QEMU (" + QEMU + ", -kernel: SeaBIOS first):\n" + sideBySide(r.serial(), q));
            assertEquals(16, new Run(q, null, 0, 0, false, null).blocks().size(), q);
            assertTrue(Pattern.compile("^rsdp at=0xf\\p{XDigit}{4}\\r?$", Pattern.MULTILINE).matcher(q).find(), q);
        }
    }

    private Path guestFile(String name) throws Exception {
        Path p = dir.resolve(name);
        try (var in = RomImage.class.getResourceAsStream(RomImage.BUNDLED_PATH + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** Runs the same ROM under QEMU, when installed, and requires the same block lines. */
    private void compareWithQemu(Run jkvm, byte[] rom, String name) throws Exception {
        if (!Files.isExecutable(QEMU)) {
            System.out.println("legacy area: QEMU (" + QEMU + ") is not installed here: the comparison with QEMU did not run");
            return;
        }
        Path file = dir.resolve("qemu-" + name);
        Files.write(file, rom);
        String q = qemu("-bios", file.toString());
        assertEquals(new Run(q, null, 0, 0, false, null).blocks(), jkvm.blocks(), "QEMU's lines, then jkvm's; QEMU printed:\n" + q);
    }

    private String qemu(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(QEMU.toString(), "-accel", "kvm", "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(dir, "qemu", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("QEMU did not end in " + WAIT + ": " + Files.readString(log));
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(33, p.exitValue(), String.join(" ", cmd) + ":\n" + text);
        return text;
    }

    private static String sideBySide(String left, String right) {
        List<String> l = left.lines().filter(s -> !s.isBlank()).toList();
        List<String> r = right.lines().filter(s -> !s.contains("warning:") && !s.isBlank()).toList();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.max(l.size(), r.size()); i++) {
            sb.append(String.format("  %-58s | %s%n", i < l.size() ? l.get(i).strip() : "", i < r.size() ? r.get(i).strip() : ""));
        }
        return sb.toString();
    }
}
