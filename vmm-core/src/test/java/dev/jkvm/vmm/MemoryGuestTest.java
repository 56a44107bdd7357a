package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.monitor.Monitor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Guest memory as the bundled {@code meminfo} kernel sees it: the map it was given, a pattern
 * written and read back over its RAM, and a variable whose address and value it prints, checked
 * against the monitor's translation commands while it runs.
 */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // counts threads, descriptors, memory or time
class MemoryGuestTest {

    private static final Pattern E820_LINE = Pattern.compile("e820 base=0x(\\p{XDigit}+) len=0x(\\p{XDigit}+) type=(\\d+)");
    private static final Pattern VERIFIED = Pattern.compile("verified bytes=(\\d+) pages=(\\d+) above_4g_pages=(\\d+) step=(\\d+)");
    private static final Pattern KERNEL = Pattern.compile("kernel start=0x(\\p{XDigit}+) end=0x(\\p{XDigit}+)");

    /**
     * The 2 MiB regions a sample touches at most. Guest RAM is {@code MADV_HUGEPAGE} (as QEMU's), so a touch costs the
     * host its whole huge page: every 2 MiB of a 5 GiB guest was 5 GiB resident, which ran a nested test VM of 3 GiB out
     * of memory (the OOM killer took the test JVM) and spent minutes there in the kernel's compaction.
     */
    private static final long MAX_REGIONS = 256;

    /** The sample step, in pages, for a guest of {@code bytes}: {@code step}, or wider where it would touch more than MAX_REGIONS regions. */
    static long sampleStep(long bytes, long step) {
        return bytes <= MAX_REGIONS << 21 ? step : Math.max(step, bytes / MAX_REGIONS >>> 12);
    }

    /**
     * Boots meminfo with {@code -m size}; tests every {@code step}-th page (every page at 128 MiB:
     * this host's KVM runs guest code slowly, so larger guests test a sample of at most MAX_REGIONS
     * pages) and checks the map the guest printed and the number of pages it verified against jkvm's layout.
     */
    private static void ramTest(String size, long bytes) {
        long step = sampleStep(bytes, 1);
        try (Machine m = DevicesGuestTest.machine("-kernel", "meminfo", "-m", size, "-append", "step=" + step)) {
            RunResult r = m.run(Duration.ofSeconds(300));
            assertEquals(33, r.exitStatus(), r.serialTail(20));
            List<E820.Entry> seen = new ArrayList<>();
            Matcher e = E820_LINE.matcher(r.serial());
            while (e.find()) {
                seen.add(new E820.Entry(Long.parseUnsignedLong(e.group(1), 16), Long.parseUnsignedLong(e.group(2), 16),
                        Integer.parseInt(e.group(3))));
            }
            assertEquals(m.e820().entries(), seen, "the map the guest was given is jkvm's layout");
            Matcher k = KERNEL.matcher(r.serial());
            assertTrue(k.find(), r.serial());
            long kStart = Long.parseLong(k.group(1), 16);
            long kEnd = Long.parseLong(k.group(2), 16);
            long expected = 0;
            long above4g = 0;
            for (E820.Entry x : m.e820().entries()) {
                if (x.type() != E820.RAM) {
                    continue;
                }
                for (long page = (x.base() + 4095) >>> 12; (page + 1) << 12 <= x.end(); page++) {
                    long a = page << 12;
                    if (page % step == 0 && (a + 4096 <= kStart || a >= kEnd)) {
                        expected++;
                        if (a >= 1L << 32) {
                            above4g++;
                        }
                    }
                }
            }
            Matcher v = VERIFIED.matcher(r.serial());
            assertTrue(v.find(), r.serial());
            assertEquals(expected, Long.parseLong(v.group(2)), "pages verified");
            assertEquals(above4g, Long.parseLong(v.group(3)), "pages above 4 GiB");
            boolean ramAbove4g = m.e820().entries().stream().anyMatch(x -> x.type() == E820.RAM && x.end() > 1L << 32);
            assertEquals(ramAbove4g, above4g > 0, "the sample reaches the RAM above 4 GiB where there is some");
            // The pattern the guest left is there for the host too: address ^ 0x5a5a5a5a5a5a5a5a.
            long last = -1;
            for (E820.Entry x : m.e820().entries()) {
                if (x.type() == E820.RAM) {
                    last = ((x.end() >>> 12) - 1) / step * step << 12;
                }
            }
            long word = ByteBuffer.wrap(m.readPhysical(last, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(last ^ 0x5a5a5a5a5a5a5a5aL, word, String.format("the pattern at 0x%x", last));
        }
    }

    @Test
    void ram128MiBEveryPage() {
        ramTest("128M", 128L << 20);
    }

    @Test
    void ram1GiB() {
        ramTest("1G", 1L << 30);
    }

    @Test
    void ram3584MiBCrossesTheHole() {
        ramTest("3584M", 3584L << 20);
    }

    @Test
    void ram5GiBHasRamAbove4GiB() {
        ramTest("5G", 5L << 30);
    }

    @Test
    void aFiveGiBGuestCostsTheHostOnlyWhatItTouches() throws IOException {
        VcpuThreadsTest.awaitReleased(); // an earlier machine's memory unmapped meanwhile would hide growth
        long before = rssBytes();
        try (Machine m = DevicesGuestTest.machine("-kernel", "meminfo", "-m", "5G", "-append", "step=4096")) {
            long created = rssBytes();
            // Reserved, not touched: a 5 GiB machine costs the host next to nothing before the guest runs.
            assertTrue(created - before < 32L << 20, "RSS grew by " + (created - before) + " bytes at create");
            RunResult r = m.run(Duration.ofSeconds(300));
            assertEquals(33, r.exitStatus(), r.serialTail(20));
            long after = rssBytes();
            Matcher v = VERIFIED.matcher(r.serial());
            assertTrue(v.find());
            long touchedRegions = Long.parseLong(v.group(2)); // one word per 16 MiB: at most one 2 MiB huge page each
            long bound = touchedRegions * (2L << 20) + (64L << 20);
            assertTrue(after - before < bound, "RSS grew by " + (after - before) + " bytes, bound " + bound);
        }
    }

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS");
    }

    @Test
    void theTranslationCommandsAndTheKernelsSymbolsAgreeWithWhatTheGuestPrinted() throws InterruptedException {
        try (Machine m = DevicesGuestTest.machine("-kernel", "meminfo", "-append", "step=4096 wait=30")) {
            m.start();
            String var = m.serial().awaitLine(Pattern.compile("var addr=.*"), Duration.ofSeconds(60)).orElseThrow();
            Matcher vm = Pattern.compile("var addr=0x(\\p{XDigit}+) value=0x(\\p{XDigit}+)").matcher(var);
            assertTrue(vm.find(), var);
            long addr = Long.parseLong(vm.group(1), 16);
            long value = Long.parseUnsignedLong(vm.group(2), 16);
            // the kernel's symbol table names the same variable the guest printed
            assertEquals(addr, m.symbol("watched_var").address(), "the symbol's address is where the guest has it");
            assertEquals(value, m.readSymbolValue("watched_var"));
            String cr3Line = m.serial().lines().stream().filter(l -> l.startsWith("cr3 ")).findFirst().orElseThrow();
            long cr3 = Long.parseLong(cr3Line.replaceAll(".*value=0x", ""), 16);
            m.serial().awaitLine(Pattern.compile("waiting seconds=.*"), Duration.ofSeconds(120)).orElseThrow();

            Monitor mon = new Monitor(m);
            String hex = Long.toHexString(addr);
            // guest-virtual -> guest-physical: the kernel maps itself 1:1, through 4-level tables from its CR3
            String walk = mon.execute("gva2gpa -v 0x" + hex);
            assertTrue(walk.contains("gpa: 0x" + hex + "\n"), walk);
            assertTrue(walk.contains("PML4E  at gpa 0x" + String.format("%09x", cr3 + ((addr >>> 39) & 0x1ff) * 8)), walk);
            assertTrue(walk.contains("PDPTE") && walk.contains("PDE"), walk);
            assertTrue(!walk.contains("KVM_TRANSLATE says"), walk); // KVM's own walk agrees
            assertTrue(mon.execute("info registers").contains(String.format("CR3=%016x", cr3)));
            // the live tables, leaf by leaf and as ranges; KVM's own walk agrees on every leaf (no note)
            Matcher size = Pattern.compile("page size (\\d+) (KiB|MiB|GiB)").matcher(walk);
            assertTrue(size.find(), walk);
            long pageSize = Long.parseLong(size.group(1)) << switch (size.group(2)) {
                case "KiB" -> 10;
                case "MiB" -> 20;
                default -> 30;
            };
            long page = addr & -pageSize;
            String tlb = mon.execute("info tlb");
            assertTrue(tlb.contains(String.format("%016x: %016x ", page, page)), "the variable's page, identity-mapped:\n" + tlb);
            assertTrue(!tlb.contains("KVM_TRANSLATE says"), tlb);
            String mem = mon.execute("info mem");
            assertTrue(!mem.contains("KVM_TRANSLATE says"), mem);
            assertTrue(mem.lines().anyMatch(l -> {
                String[] f = l.split("[- ]");
                return Long.parseUnsignedLong(f[0], 16) <= addr && addr < Long.parseUnsignedLong(f[1], 16) && l.endsWith("rw");
            }), "a writable range holds the variable:\n" + mem);
            // the variable's contents, through physical and virtual dumps
            assertEquals(String.format("%016x: 0x%016x%n", addr, value), mon.execute("xp /1xg 0x" + hex));
            assertEquals(String.format("%016x: 0x%016x%n", addr, value), mon.execute("x /1xg 0x" + hex));
            // guest-physical -> host-virtual: jkvm's own mapping holds the same bytes
            Matcher hva = Pattern.compile("is 0x(\\p{XDigit}+)").matcher(mon.execute("gpa2hva 0x" + hex));
            assertTrue(hva.find());
            long host = MemorySegment.ofAddress(Long.parseUnsignedLong(hva.group(1), 16)).reinterpret(8)
                    .get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            assertEquals(value, host);
            // host-virtual -> host-physical: a real frame, same offset in the page
            Matcher hpa = Pattern.compile("Host physical address for 0x" + hex + " \\(ram\\) is 0x(\\p{XDigit}+)")
                    .matcher(mon.execute("gpa2hpa 0x" + hex));
            assertTrue(hpa.find());
            assertEquals(addr & 0xfff, Long.parseUnsignedLong(hpa.group(1), 16) & 0xfff);
            assertEquals(value, ByteBuffer.wrap(m.readSymbol("watched_var")).order(ByteOrder.LITTLE_ENDIAN).getLong());
            // and a write from the host, by the variable's name, is seen by the guest
            m.writeSymbol("watched_var", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0x1122334455667788L).array());
            assertTrue(m.serial().awaitLine(Pattern.compile("var changed value=0x1122334455667788"), Duration.ofSeconds(120))
                    .isPresent(), m.serial().tail(5));
        }
    }
}
