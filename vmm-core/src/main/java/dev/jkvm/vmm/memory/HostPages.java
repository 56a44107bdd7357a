package dev.jkvm.vmm.memory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.util.OptionalLong;

/**
 * The last step of the chapter's translation chain: a host-virtual address of jkvm's own memory
 * to the host-physical address behind it, from {@code /proc/self/pagemap} (bits 0-54: the page
 * frame number, bit 63: present). Only root sees frame numbers; a page the guest has not touched
 * yet has none, since guest RAM is reserved, not allocated.
 */
public final class HostPages {

    private static final String PAGEMAP = "/proc/self/pagemap";
    private static final long PRESENT = 1L << 63;
    private static final long PFN_MASK = (1L << 55) - 1;

    private HostPages() {
    }

    /** The host-physical address of {@code hva}, or empty when no page backs it now or the kernel hides frame numbers. */
    public static OptionalLong physical(long hva) {
        try (RandomAccessFile f = new RandomAccessFile(PAGEMAP, "r")) {
            f.seek((hva >>> 12) * 8);
            long e = Long.reverseBytes(f.readLong()); // little-endian u64
            long pfn = e & PFN_MASK;
            if ((e & PRESENT) == 0 || pfn == 0) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(pfn << 12 | (hva & 0xfff));
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }
}
