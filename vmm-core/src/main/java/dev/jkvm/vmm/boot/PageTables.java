package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Identity-mapping page tables for a long-mode entry: one PML4, one PDPT and four page directories
 * of 2 MiB pages, mapping the first 4 GiB onto itself, as the Linux 64-bit boot protocol needs for
 * the kernel, the zero page and the command line (the kernel builds its own tables right away).
 */
final class PageTables {

    /** Pages written from the base: PML4, PDPT, then one page directory per GiB. */
    static final int PAGES = 2 + 4;
    static final long SIZE = PAGES * 4096L;
    private static final long PRESENT = 1;
    private static final long WRITABLE = 2;
    private static final long HUGE = 0x80;

    private PageTables() {
    }

    /** The tables for a PML4 at {@code base} (page-aligned), as bytes to write there. */
    static byte[] identity4g(long base) {
        ByteBuffer b = ByteBuffer.allocate((int) SIZE).order(ByteOrder.LITTLE_ENDIAN);
        long pdpt = base + 4096;
        long firstPd = pdpt + 4096;
        b.putLong(0, pdpt | PRESENT | WRITABLE);
        for (int gib = 0; gib < 4; gib++) {
            long pd = firstPd + gib * 4096L;
            b.putLong(4096 + gib * 8, pd | PRESENT | WRITABLE);
            for (int i = 0; i < 512; i++) {
                long address = ((long) gib << 30) | ((long) i << 21);
                b.putLong((int) (pd - base) + i * 8, address | PRESENT | WRITABLE | HUGE);
            }
        }
        return b.array();
    }

    /** Writes the tables at {@code base}; returns the value for CR3. */
    static long write(GuestMemory memory, long base) {
        memory.write(base, identity4g(base));
        return base;
    }
}
