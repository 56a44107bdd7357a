package dev.jkvm.vmm.memory;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.VmFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * KVM's dirty-page log of one VM's RAM slots ({@code KVM_MEM_LOG_DIRTY_PAGES}): which pages the
 * guest wrote since the last look. Everything it needs for a look (the bitmaps, the
 * {@code kvm_dirty_log} requests, the errno capture) is allocated once, so a restore that reads
 * the log and copies the dirty pages back allocates nothing per page. Not thread-safe: the machine
 * serialises snapshots and restores.
 */
public final class DirtyLog implements AutoCloseable {

    /** One RAM slot: its KVM slot number, its region's index in a {@link MemoryImage}, its host memory. */
    record Slot(int slot, int imageRegion, MemorySegment host, MemorySegment bitmap, MemorySegment request) {
    }

    private static final MemorySegment ZERO_PAGE = Arena.global().allocate(MemoryImage.PAGE, MemoryImage.PAGE);

    private final VmFd vm;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment capture = Libc.newErrnoCapture(arena);
    private final List<Slot> slots = new ArrayList<>();

    /** @param ram per RAM slot: its number, its region index in the image, its host memory */
    DirtyLog(VmFd vm, List<int[]> numbers, List<MemorySegment> ram) {
        this.vm = vm;
        for (int i = 0; i < ram.size(); i++) {
            long pages = ram.get(i).byteSize() / MemoryImage.PAGE;
            MemorySegment bitmap = arena.allocate(Math.ceilDiv(pages, 64) * 8, 8);
            slots.add(new Slot(numbers.get(i)[0], numbers.get(i)[1], ram.get(i), bitmap,
                    VmFd.dirtyLogRequest(arena, numbers.get(i)[0], bitmap)));
        }
    }

    /** The VM whose log this is. */
    public VmFd vm() {
        return vm;
    }

    /** Reads and forgets what the guest wrote so far: from now on the log counts from here. */
    public void clear() {
        for (Slot s : slots) {
            fetch(s);
        }
    }

    /**
     * Copies back from {@code image} every page the guest wrote since the last look ({@link #clear}
     * or this), and returns how many. Allocates nothing per page.
     */
    public int restoreDirty(MemoryImage image) {
        int restored = 0;
        for (Slot s : slots) {
            fetch(s);
            MemoryImage.RegionImage r = image.regions().get(s.imageRegion());
            MemorySegment bitmap = s.bitmap();
            long words = bitmap.byteSize() / 8;
            for (long w = 0; w < words; w++) {
                long bits = bitmap.get(JAVA_LONG, w * 8);
                while (bits != 0) {
                    int bit = Long.numberOfTrailingZeros(bits);
                    bits &= bits - 1;
                    int page = (int) (w * 64 + bit);
                    int slot = r.slots()[page];
                    long at = page * MemoryImage.PAGE;
                    if (slot >= 0) {
                        MemorySegment.copy(r.pages(), slot * MemoryImage.PAGE, s.host(), at, MemoryImage.PAGE);
                    } else {
                        MemorySegment.copy(ZERO_PAGE, 0, s.host(), at, MemoryImage.PAGE);
                    }
                    restored++;
                }
            }
        }
        return restored;
    }

    private void fetch(Slot s) {
        if (vm.dirtyLogRaw(capture, s.request()) < 0) {
            throw new KvmException("KVM_GET_DIRTY_LOG", Libc.errno(capture));
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
