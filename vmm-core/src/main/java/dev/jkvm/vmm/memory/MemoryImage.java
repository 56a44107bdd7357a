package dev.jkvm.vmm.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Guest memory as a snapshot holds it: per region, the pages that are not all zeros, packed
 * off the heap, and for every page where its bytes are (or -1: a zero page, which is not stored).
 * Immutable once built; freed by the garbage collector with the snapshot.
 */
public final class MemoryImage {

    static final long PAGE = MemoryMap.PAGE;

    /**
     * One region's pages.
     *
     * @param base  its guest-physical base
     * @param slots per page of the region, the index of its bytes in {@code pages} (in pages), or -1 for zeros
     * @param pages the stored pages, {@code stored * PAGE} bytes
     */
    public record RegionImage(long base, long size, int[] slots, MemorySegment pages, int stored) {
        public RegionImage {
            if (size % PAGE != 0 || slots.length != size / PAGE || pages.byteSize() != stored * PAGE) {
                throw new IllegalArgumentException(String.format(
                        "region image at 0x%x: %d bytes, %d page slots, %d stored pages in %d bytes",
                        base, size, slots.length, stored, pages.byteSize()));
            }
        }

        /** Region image with {@code slots} filled in page order and room for {@code stored} pages. */
        public static RegionImage allocate(long base, long size, int[] slots, int stored) {
            MemorySegment pages = stored == 0 ? MemorySegment.NULL.reinterpret(0)
                    : Arena.ofAuto().allocate(stored * PAGE, PAGE);
            return new RegionImage(base, size, slots, pages, stored);
        }
    }

    private final List<RegionImage> regions;

    public MemoryImage(List<RegionImage> regions) {
        this.regions = List.copyOf(regions);
    }

    /** The regions, in the machine's order. */
    public List<RegionImage> regions() {
        return regions;
    }

    /** How many pages are stored (not all zeros). */
    public long storedPages() {
        return regions.stream().mapToLong(RegionImage::stored).sum();
    }

    /** How many pages the regions span. */
    public long totalPages() {
        return regions.stream().mapToLong(r -> r.size() / PAGE).sum();
    }
}
