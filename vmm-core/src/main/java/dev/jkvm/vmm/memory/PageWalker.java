package dev.jkvm.vmm.memory;

import dev.jkvm.kvm.Sregs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The guest's own page tables, walked by jkvm from CR3 through guest memory, as the MMU does: the
 * first of the chapter's two translations (guest-virtual to guest-physical). Handles paging off,
 * 32-bit two-level paging (with 4 MiB pages), PAE, and 4- and 5-level long mode (with 2 MiB and
 * 1 GiB pages). Reads only guest memory through {@link GuestMemory}; an entry outside it ends the
 * walk as a fault, never a read elsewhere.
 *
 * <pre>{@code
 * PageWalker w = PageWalker.of(memory, vcpuFd.sregs());
 * w.walk(0xffffffff81000000L).gpa();     // OptionalLong of the guest-physical address
 * }</pre>
 */
public final class PageWalker {

    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PSE = 1L << 4;
    private static final long CR4_PAE = 1L << 5;
    private static final long CR4_LA57 = 1L << 12;
    private static final long EFER_LMA = 1L << 10;
    /** Physical-address bits of an entry (bits 12..51). */
    private static final long ADDRESS_MASK = 0x000f_ffff_ffff_f000L;

    /** Entry flag bits, as the SDM names them. */
    public static final long P = 1, RW = 1 << 1, US = 1 << 2, PWT = 1 << 3, PCD = 1 << 4, A = 1 << 5, D = 1 << 6,
            PS = 1 << 7, G = 1 << 8, NX = 1L << 63;

    /** The paging mode the control registers select. */
    public enum Mode { NONE, TWO_LEVEL, PAE, FOUR_LEVEL, FIVE_LEVEL }

    /**
     * One level of a walk.
     *
     * @param level the SDM's name of the entry ({@code PML4E}, {@code PDPTE}, {@code PDE}, {@code PTE}, ...)
     * @param entryAddress the guest-physical address of the entry
     * @param entry its value
     */
    public record Step(String level, long entryAddress, long entry) {
        /** Whether the entry maps a page (rather than pointing to the next table). */
        public boolean present() {
            return (entry & P) != 0;
        }

        /** The flags in the {@code info tlb} style. */
        public String flags() {
            return flagString(entry);
        }
    }

    /**
     * A walk: the entries read, and the guest-physical address (empty when not mapped).
     *
     * @param pageSize the size of the page that maps the address (4 KiB, 2/4 MiB, 1 GiB)
     */
    public record Walk(long gva, List<Step> steps, Optional<Long> gpa, long pageSize, long leafEntry) {
        public Walk {
            steps = List.copyOf(steps);
        }
    }

    private final GuestMemory memory;
    private final long cr3;
    private final Mode mode;
    private final boolean pse;

    public PageWalker(GuestMemory memory, long cr0, long cr3, long cr4, long efer) {
        this.memory = memory;
        this.cr3 = cr3;
        if ((cr0 & CR0_PG) == 0) {
            mode = Mode.NONE;
        } else if ((efer & EFER_LMA) != 0) {
            mode = (cr4 & CR4_LA57) != 0 ? Mode.FIVE_LEVEL : Mode.FOUR_LEVEL;
        } else if ((cr4 & CR4_PAE) != 0) {
            mode = Mode.PAE;
        } else {
            mode = Mode.TWO_LEVEL;
        }
        this.pse = (cr4 & CR4_PSE) != 0;
    }

    /** The walk the control registers {@code sregs} select (CR0, CR3, CR4, EFER). */
    public static PageWalker of(GuestMemory memory, Sregs sregs) {
        return new PageWalker(memory, sregs.cr0(), sregs.cr3(), sregs.cr4(), sregs.efer());
    }

    /** The paging mode. */
    public Mode mode() {
        return mode;
    }

    /** Translates {@code gva}, recording every entry read. */
    public Walk walk(long gva) {
        List<Step> steps = new ArrayList<>();
        switch (mode) {
            case NONE -> {
                return new Walk(gva, steps, Optional.of(gva & 0xffff_ffffL), 4096, 0);
            }
            case TWO_LEVEL -> {
                long pde = step(steps, "PDE", (cr3 & 0xffff_f000L) + ((gva >>> 22) & 0x3ff) * 4, 4);
                if ((pde & P) == 0) {
                    return fault(gva, steps);
                }
                if ((pde & PS) != 0 && pse) {
                    long base = (pde & 0xffc0_0000L) | ((pde >>> 13) & 0xffL) << 32; // PSE-36
                    return new Walk(gva, steps, Optional.of(base | (gva & 0x3f_ffffL)), 4L << 20, pde);
                }
                long pte = step(steps, "PTE", (pde & 0xffff_f000L) + ((gva >>> 12) & 0x3ff) * 4, 4);
                if ((pte & P) == 0) {
                    return fault(gva, steps);
                }
                return new Walk(gva, steps, Optional.of((pte & 0xffff_f000L) | (gva & 0xfff)), 4096, pte);
            }
            default -> {
                String[] names;
                int[] shifts;
                long table;
                if (mode == Mode.PAE) {
                    long pdpte = step(steps, "PDPTE", (cr3 & 0xffff_ffe0L) + ((gva >>> 30) & 3) * 8, 8);
                    if ((pdpte & P) == 0) {
                        return fault(gva, steps);
                    }
                    names = new String[] {"PDE", "PTE"};
                    shifts = new int[] {21, 12};
                    table = pdpte & ADDRESS_MASK;
                } else {
                    names = mode == Mode.FIVE_LEVEL ? new String[] {"PML5E", "PML4E", "PDPTE", "PDE", "PTE"}
                            : new String[] {"PML4E", "PDPTE", "PDE", "PTE"};
                    shifts = mode == Mode.FIVE_LEVEL ? new int[] {48, 39, 30, 21, 12} : new int[] {39, 30, 21, 12};
                    table = cr3 & ADDRESS_MASK;
                }
                for (int i = 0; i < names.length; i++) {
                    long e = step(steps, names[i], table + ((gva >>> shifts[i]) & 0x1ff) * 8, 8);
                    if ((e & P) == 0) {
                        return fault(gva, steps);
                    }
                    boolean leaf = shifts[i] == 12 || ((e & PS) != 0 && (shifts[i] == 21 || shifts[i] == 30));
                    if (leaf) {
                        long size = 1L << shifts[i];
                        long base = e & ADDRESS_MASK & -size;
                        return new Walk(gva, steps, Optional.of(base | (gva & (size - 1))), size, e);
                    }
                    table = e & ADDRESS_MASK;
                }
                return fault(gva, steps);
            }
        }
    }

    private static Walk fault(long gva, List<Step> steps) {
        return new Walk(gva, steps, Optional.empty(), 0, 0);
    }

    /** Reads one entry; an entry outside guest memory reads as not present (0). */
    private long step(List<Step> steps, String level, long address, int size) {
        long v = memory.isBacked(address, size) ? memory.readUnsigned(address, size) : 0;
        steps.add(new Step(level, address, v));
        return v;
    }

    /** QEMU's {@code info tlb} flag letters: X G P D A C T U W, '-' where clear. */
    public static String flagString(long e) {
        return new String(new char[] {(e & NX) != 0 ? 'X' : '-', (e & G) != 0 ? 'G' : '-', (e & PS) != 0 ? 'P' : '-',
                (e & D) != 0 ? 'D' : '-', (e & A) != 0 ? 'A' : '-', (e & PCD) != 0 ? 'C' : '-', (e & PWT) != 0 ? 'T' : '-',
                (e & US) != 0 ? 'U' : '-', (e & RW) != 0 ? 'W' : '-'});
    }

    /**
     * How far {@link #forEachMapping} may go: page tables are guest memory, and a PML4 entry that
     * points back at its own table (a self-map, or a hostile guest) repeats the whole tree under
     * every entry, about 2^36 leaves. So the walk stops at {@code maxTables} tables read or
     * {@code maxLeaves} leaves, whichever comes first.
     */
    public record Limits(int maxTables, long maxLeaves) {
        /** 4096 tables cover 8 GiB mapped with 4 KiB pages; 2^20 leaves are 4 GiB of them. */
        public static final Limits DEFAULT = new Limits(4096, 1L << 20);
    }

    /** What a bounded walk did: tables read, leaves seen, and why it stopped early (empty: it did not). */
    public record WalkSummary(int tables, long leaves, Optional<String> cut) {
    }

    /**
     * Every mapped page of the address space, in address order, merged into runs of equal access
     * rights: what {@code info mem} prints. Walks the tables, not the addresses, so a 48-bit space
     * costs what is mapped. Only long mode and paging off are supported (test kernels run there).
     * Bounded by {@link Limits#DEFAULT}.
     *
     * @param visitor receives each leaf: its virtual address, size, physical address and effective entry bits
     */
    public WalkSummary forEachMapping(MappingVisitor visitor) {
        return forEachMapping(visitor, Limits.DEFAULT);
    }

    /** {@link #forEachMapping(MappingVisitor)} within {@code limits}; the summary says whether it was cut. */
    public WalkSummary forEachMapping(MappingVisitor visitor, Limits limits) {
        Budget budget = new Budget(limits, visitor);
        switch (mode) {
            case NONE -> budget.leaf(0, 1L << 32, 0, P | RW | US);
            case FOUR_LEVEL -> table(cr3 & ADDRESS_MASK, 39, 0, P | RW | US, budget);
            case FIVE_LEVEL -> table(cr3 & ADDRESS_MASK, 48, 0, P | RW | US, budget);
            default -> {
                for (long va = 0; va < 1L << 32 && budget.cut == null; va += 4096) {
                    Walk w = walk(va);
                    if (w.gpa().isPresent()) {
                        budget.leaf(va, 4096, w.gpa().get(), w.leafEntry());
                    }
                }
            }
        }
        return new WalkSummary(budget.tables, budget.leaves, Optional.ofNullable(budget.cut));
    }

    /** Receives a mapped page (or large page). */
    @FunctionalInterface
    public interface MappingVisitor {
        void page(long gva, long size, long gpa, long entry);
    }

    /** The counts of one bounded walk. */
    private static final class Budget {
        final Limits limits;
        final MappingVisitor visitor;
        int tables;
        long leaves;
        String cut;

        Budget(Limits limits, MappingVisitor visitor) {
            this.limits = limits;
            this.visitor = visitor;
        }

        boolean table() {
            if (cut == null && tables >= limits.maxTables()) {
                cut = "the walk stopped after " + tables + " page tables (cyclic or very large page tables)";
            }
            if (cut != null) {
                return false;
            }
            tables++;
            return true;
        }

        void leaf(long gva, long size, long gpa, long entry) {
            if (cut == null && leaves >= limits.maxLeaves()) {
                cut = "the walk stopped after " + leaves + " mappings (cyclic or very large page tables)";
            }
            if (cut == null) {
                leaves++;
                visitor.page(gva, size, gpa, entry);
            }
        }
    }

    private void table(long table, int shift, long vaBase, long inherited, Budget budget) {
        if (!budget.table()) {
            return;
        }
        // one read per table, not per entry (a bounded walk still reads up to millions of entries)
        int backed = 0;
        while (backed < 512 && memory.isBacked(table + backed * 8L, 8)) {
            backed = backed == 0 && memory.isBacked(table, 4096) ? 512 : backed + 1;
        }
        if (backed == 0) {
            return;
        }
        java.nio.ByteBuffer entries = java.nio.ByteBuffer.wrap(memory.read(table, backed * 8))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < backed && budget.cut == null; i++) {
            long e = entries.getLong(i * 8);
            if ((e & P) == 0) {
                continue;
            }
            long va = canonical(vaBase | (long) i << shift);
            // Rights narrow down the walk: writable and user only where every level says so.
            long eff = (e & ~(RW | US)) | (e & inherited & (RW | US)) | (inherited & NX);
            boolean leaf = shift == 12 || ((e & PS) != 0 && (shift == 21 || shift == 30));
            if (leaf) {
                long size = 1L << shift;
                budget.leaf(va, size, e & ADDRESS_MASK & -size, eff);
            } else if (shift > 12) {
                table(e & ADDRESS_MASK, shift - 9, va, eff, budget);
            }
        }
    }

    private long canonical(long va) {
        int bits = mode == Mode.FIVE_LEVEL ? 57 : 48;
        return va << (64 - bits) >> (64 - bits);
    }
}
