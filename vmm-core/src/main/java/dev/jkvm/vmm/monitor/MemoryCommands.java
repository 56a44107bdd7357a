package dev.jkvm.vmm.monitor;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestMemoryException;
import dev.jkvm.vmm.memory.GuestView;
import dev.jkvm.vmm.memory.HostPages;
import dev.jkvm.vmm.memory.PageWalker;
import dev.jkvm.vmm.memory.Region;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The monitor's memory commands, with QEMU's names and output: {@code xp}/{@code x} (dump
 * guest-physical / guest-virtual memory), {@code gva2gpa} (with {@code -v}: every level of the
 * guest's page walk, then on to the host), {@code gpa2hva}, {@code gpa2hpa}, {@code info mem},
 * {@code info tlb} and {@code info mtree}: the whole GVA to GPA to HVA to HPA chain of the
 * chapter, on a live guest.
 */
final class MemoryCommands {

    private static final Duration ANSWER = Duration.ofSeconds(2);
    /** Up to 8,192 KVM_TRANSLATE calls in one answer: a busy host took longer than {@link #ANSWER}. */
    private static final Duration CROSS_CHECK_ANSWER = Duration.ofSeconds(15);

    private final Machine machine;

    MemoryCommands(Machine machine) {
        this.machine = machine;
    }

    void install(Monitor monitor) {
        monitor.addCommand("xp", "/fmt addr", "dump guest-physical memory (fmt: count, x|d|u|c, b|h|w|g)", a -> dump(a, true));
        monitor.addCommand("x", "/fmt addr", "dump guest-virtual memory through the guest's page tables", a -> dump(a, false));
        monitor.addCommand("gva2gpa", "[-v] addr", "guest-virtual to guest-physical (-v: every table entry walked)", this::gva2gpa);
        monitor.addCommand("gpa2hva", "addr", "guest-physical to jkvm's host-virtual address", this::gpa2hva);
        monitor.addCommand("gpa2hpa", "addr", "guest-physical to host-physical address (/proc/self/pagemap)", this::gpa2hpa);
        monitor.addInfo("mem", "", "the guest's active virtual mappings", a -> infoMem());
        monitor.addInfo("tlb", "", "the guest's page-table leaves, virtual to physical with their flags", a -> infoTlb());
        monitor.addInfo("mtree", "", "the guest-physical memory map: KVM slots and MMIO", a -> infoMtree());
    }

    /** How many leaves info mem and info tlb check against KVM_TRANSLATE (one ioctl each). */
    static final int MAX_CROSS_CHECKED = 8192;

    /** What QEMU's info mem and info tlb say while the guest runs without paging. */
    static final String PAGING_OFF = "PG disabled\n";

    /** vCPU 0's page tables now (its registers asked of its thread). */
    private PageWalker walker() {
        return machine.guest().walker(0);
    }

    static long parseAddress(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        try {
            return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw new JkvmException("invalid address '" + text + "'");
        }
    }

    /**
     * The most one {@code xp}/{@code x} dumps: 1 MiB, about 3.5 MiB of text. (QEMU has no cap as
     * such: its count times the unit size is a C int, and from 2 GiB on the dump prints nothing.)
     */
    static final int MAX_DUMP_BYTES = 1 << 20;

    /** {@code xp /8xb 0x1000}: count, format, unit size. */
    private String dump(String[] args, boolean physical) {
        if (args.length == 0) {
            throw new JkvmException("address expected");
        }
        int count = 1;
        char format = 'x';
        int size = 4;
        String addr = args[0];
        if (args[0].startsWith("/")) {
            if (args.length < 2) {
                throw new JkvmException("address expected");
            }
            String f = args[0].substring(1);
            int i = 0;
            while (i < f.length() && Character.isDigit(f.charAt(i))) {
                i++;
            }
            if (i > 0) {
                long n = i > 10 ? Long.MAX_VALUE : Long.parseLong(f.substring(0, i));
                if (n > MAX_DUMP_BYTES) {
                    throw new JkvmException("count " + f.substring(0, i) + " too large: a dump is at most "
                            + MAX_DUMP_BYTES + " bytes");
                }
                count = (int) n;
            }
            for (char c : f.substring(i).toCharArray()) {
                switch (c) {
                    case 'x', 'd', 'u', 'c', 'o' -> format = c;
                    case 'b' -> size = 1;
                    case 'h' -> size = 2;
                    case 'w' -> size = 4;
                    case 'g' -> size = 8;
                    default -> throw new JkvmException("invalid char in format: '" + c + "'");
                }
            }
            addr = args[1];
        }
        if (format == 'c') {
            size = 1;
        }
        if ((long) count * size > MAX_DUMP_BYTES) {
            throw new JkvmException(String.format(Locale.ROOT, "%d units of %d bytes too large: a dump is at most %d bytes",
                    count, size, MAX_DUMP_BYTES));
        }
        long start = parseAddress(addr);
        PageWalker walker = physical ? null : walker();
        GuestView guest = machine.guest();
        GuestMemory memory = guest.memory();
        StringBuilder sb = new StringBuilder();
        int perLine = Math.max(1, 16 / size);
        for (int n = 0; n < count; n++) {
            long a = start + (long) n * size;
            if (n % perLine == 0) {
                if (n > 0) {
                    sb.append('\n');
                }
                sb.append(String.format(Locale.ROOT, "%016x:", a));
            }
            long v;
            try {
                // a virtual unit may lie on two pages: each byte through its own page's entry
                v = physical ? memory.readUnsigned(a, size) : guest.readVirtualUnsigned(walker, a, size);
            } catch (GuestMemoryException e) {
                sb.append(e.virtual() ? "\nCannot access memory\n" : String.format(Locale.ROOT,
                        "\nCannot access memory at 0x%x (not backed by guest RAM or ROM)\n", e.address()));
                return sb.toString();
            }
            sb.append(switch (format) {
                case 'd' -> String.format(Locale.ROOT, " %d", size == 8 ? v : (v << (64 - 8 * size)) >> (64 - 8 * size));
                case 'u' -> " " + Long.toUnsignedString(v);
                case 'o' -> " 0" + Long.toOctalString(v);
                case 'c' -> " '" + (v >= 32 && v < 127 ? Character.toString((int) v) : String.format("\\x%02x", v)) + "'";
                default -> String.format(Locale.ROOT, " 0x%0" + (2 * size) + "x", v);
            });
        }
        return sb.append('\n').toString();
    }

    private String gva2gpa(String[] args) {
        boolean verbose = args.length > 0 && args[0].equals("-v");
        if (args.length < (verbose ? 2 : 1)) {
            throw new JkvmException("address expected");
        }
        long gva = parseAddress(args[verbose ? 1 : 0]);
        PageWalker walker = walker();
        PageWalker.Walk w = walker.walk(gva);
        StringBuilder sb = new StringBuilder();
        if (verbose) {
            sb.append(String.format(Locale.ROOT, "gva 0x%x, paging: %s%n", gva, walker.mode()));
            for (PageWalker.Step s : w.steps()) {
                sb.append(String.format(Locale.ROOT, "  %-6s at gpa 0x%09x = 0x%016x %s%s%n", s.level(), s.entryAddress(),
                        s.entry(), s.flags(), s.present() ? "" : " (not present)"));
            }
        }
        if (w.gpa().isEmpty()) {
            return sb.append("Unmapped\n").toString();
        }
        long gpa = w.gpa().get();
        sb.append(String.format(Locale.ROOT, "gpa: 0x%x%n", gpa));
        // KVM walks the same tables itself: say so if it disagrees with jkvm's walk.
        long kvm = machine.vcpus().get(0).call(fd -> fd.translate(gva), ANSWER);
        if (kvm != gpa) {
            sb.append(String.format(Locale.ROOT, "note: KVM_TRANSLATE says 0x%x%n", kvm));
        }
        if (verbose) {
            sb.append(String.format(Locale.ROOT, "  page size %s%n", human(w.pageSize())));
            sb.append(hostChain(gpa));
        }
        return sb.toString();
    }

    private String hostChain(long gpa) {
        GuestMemory memory = machine.memory();
        if (!memory.isBacked(gpa, 1)) {
            return String.format(Locale.ROOT, "  gpa 0x%x is not guest RAM or ROM (MMIO)%n", gpa);
        }
        long hva = memory.slice(gpa, 1).address();
        OptionalLong hpa = HostPages.physical(hva);
        return String.format(Locale.ROOT, "  hva: 0x%x (%s)%n  hpa: %s%n", hva, regionName(gpa),
                hpa.isPresent() ? String.format(Locale.ROOT, "0x%x", hpa.getAsLong()) : "none (the host has not backed this page yet)");
    }

    private String regionName(long gpa) {
        return machine.memory().map().regionOf(gpa, 1).map(Region::name).orElse("?");
    }

    private String gpa2hva(String[] args) {
        if (args.length < 1) {
            throw new JkvmException("address expected");
        }
        long gpa = parseAddress(args[0]);
        if (!machine.memory().isBacked(gpa, 1)) {
            return String.format(Locale.ROOT, "No memory is mapped at address 0x%x%n", gpa);
        }
        return String.format(Locale.ROOT, "Host virtual address for 0x%x (%s) is 0x%x%n", gpa, regionName(gpa),
                machine.memory().slice(gpa, 1).address());
    }

    private String gpa2hpa(String[] args) {
        if (args.length < 1) {
            throw new JkvmException("address expected");
        }
        long gpa = parseAddress(args[0]);
        if (!machine.memory().isBacked(gpa, 1)) {
            return String.format(Locale.ROOT, "No memory is mapped at address 0x%x%n", gpa);
        }
        OptionalLong hpa = HostPages.physical(machine.memory().slice(gpa, 1).address());
        if (hpa.isEmpty()) {
            return "No host physical address for this page (not touched yet, or /proc/self/pagemap hides frames)\n";
        }
        return String.format(Locale.ROOT, "Host physical address for 0x%x (%s) is 0x%x%n", gpa, regionName(gpa), hpa.getAsLong());
    }

    /** {@code info tlb} prints one line per leaf: at most this many (about 3 MiB of text). */
    static final int MAX_TLB_LINES = 65536;
    /** {@code info mem} prints one line per run of equal rights: at most this many. */
    static final int MAX_MEM_RUNS = 16384;

    private String infoMem() {
        PageWalker walker = walker();
        if (walker.mode() == PageWalker.Mode.NONE) {
            return PAGING_OFF;
        }
        StringBuilder sb = new StringBuilder();
        long[] run = {-1, -1, 0, 0}; // start, end, rights, runs printed
        List<long[]> leaves = new ArrayList<>();
        PageWalker.WalkSummary summary = walker.forEachMapping((gva, size, gpa, entry) -> {
            if (leaves.size() < MAX_CROSS_CHECKED) {
                leaves.add(new long[] {gva, gpa});
            }
            long rights = entry & (PageWalker.US | PageWalker.RW);
            if (run[0] >= 0 && run[1] == gva && run[2] == rights) {
                run[1] = gva + size;
                return;
            }
            flush(sb, run);
            run[0] = gva;
            run[1] = gva + size;
            run[2] = rights;
        });
        flush(sb, run);
        return sb.append(crossCheck(leaves)).append(cutLine(summary, run[3] > MAX_MEM_RUNS
                ? "output stopped after " + MAX_MEM_RUNS + " ranges" : null)).toString();
    }

    /** The line that says a walk or its output was cut short, and why; empty when neither was. */
    private static String cutLine(PageWalker.WalkSummary summary, String outputCut) {
        String why = summary.cut().orElse(outputCut);
        return why == null ? "" : "(cut: " + why + ")\n";
    }

    /**
     * KVM walks the same tables itself ({@code KVM_TRANSLATE}, on vCPU 0's thread, one mailbox
     * round trip for all): a {@code note:} line for each leaf, among the first
     * {@link #MAX_CROSS_CHECKED}, whose first address KVM translates otherwise. QEMU's output is
     * unchanged when they agree.
     */
    private String crossCheck(List<long[]> leaves) {
        int n = Math.min(leaves.size(), MAX_CROSS_CHECKED);
        long[] kvm = machine.vcpus().get(0).call(fd -> {
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = fd.translate(leaves.get(i)[0]);
            }
            return out;
        }, CROSS_CHECK_ANSWER);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (kvm[i] != leaves.get(i)[1]) {
                sb.append(String.format(Locale.ROOT, "note: KVM_TRANSLATE says 0x%x for 0x%x, jkvm's walk 0x%x%n",
                        kvm[i], leaves.get(i)[0], leaves.get(i)[1]));
            }
        }
        return sb.toString();
    }

    private static void flush(StringBuilder sb, long[] run) {
        if (run[0] >= 0 && ++run[3] <= MAX_MEM_RUNS) {
            sb.append(String.format(Locale.ROOT, "%016x-%016x %016x %c%c%c%n", run[0], run[1], run[1] - run[0],
                    (run[2] & PageWalker.US) != 0 ? 'u' : '-', 'r', (run[2] & PageWalker.RW) != 0 ? 'w' : '-'));
        }
    }

    private String infoTlb() {
        PageWalker walker = walker();
        if (walker.mode() == PageWalker.Mode.NONE) {
            return PAGING_OFF;
        }
        StringBuilder sb = new StringBuilder();
        List<long[]> leaves = new ArrayList<>();
        PageWalker.WalkSummary summary = walker.forEachMapping((gva, size, gpa, entry) -> {
            if (leaves.size() < MAX_CROSS_CHECKED) {
                leaves.add(new long[] {gva, gpa});
            }
            sb.append(String.format(Locale.ROOT, "%016x: %016x %s%n", gva, gpa, PageWalker.flagString(entry)));
        }, new PageWalker.Limits(PageWalker.Limits.DEFAULT.maxTables(), MAX_TLB_LINES));
        return sb.append(crossCheck(leaves)).append(cutLine(summary, null)).toString();
    }

    private String infoMtree() {
        StringBuilder sb = new StringBuilder("address-space: memory\n  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n");
        int slot = 0;
        for (Region r : machine.memory().map().regions()) {
            String kind = switch (r.kind()) {
                case RAM -> "ram";
                case ROM -> "rom";
                case ROM_ALIAS -> "rom alias";
                case OPTION_ROM -> "rom";
                case UNLISTED_RAM -> "ram";
            };
            sb.append(String.format(Locale.ROOT, "    %016x-%016x (prio 0, %s): %s (KVM slot %d)%n", r.base(), r.end() - 1,
                    kind, r.name(), slot++));
        }
        sb.append(String.format(Locale.ROOT, "    %016x-%016x (prio 1, i/o): ioapic (in KVM)%n", Layout.IO_APIC,
                Layout.IO_APIC + Layout.IO_APIC_SIZE - 1));
        sb.append(String.format(Locale.ROOT, "    %016x-%016x (prio 1, i/o): apic (in KVM)%n", Layout.LOCAL_APIC,
                Layout.LOCAL_APIC + Layout.LOCAL_APIC_SIZE - 1));
        return sb.toString();
    }

    private static String human(long bytes) {
        return bytes >= 1L << 30 ? (bytes >> 30) + " GiB" : bytes >= 1L << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }
}
