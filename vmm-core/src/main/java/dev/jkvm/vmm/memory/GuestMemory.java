package dev.jkvm.vmm.memory;

import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.vmm.board.Layout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The host memory behind a {@link MemoryMap}: one anonymous mapping per RAM region, one for the
 * ROM (its low alias is a slice of the same mapping) and one for the legacy area below the alias
 * ({@code pc.rom} and the RAM under a small ROM, slices of it), registered with KVM as one memory
 * slot per region, numbered in address order, and bounds-checked guest-physical access for the VMM.
 *
 * <p>RAM is reserved, not touched: {@code MAP_NORESERVE} with transparent huge pages advised, so
 * a large guest that touches little costs the host little. Owns its mappings: {@link #close()}
 * unmaps them (after the VM that used them is gone).
 */
public final class GuestMemory implements AutoCloseable {

    private final MemoryMap map;
    /** In the map's (address) order: a region's index is its KVM slot. */
    private final List<Backing> backings = new ArrayList<>();
    private final List<MemorySegment> mappings = new ArrayList<>();
    /** Whether jkvm itself wrote guest memory since {@link #clearHostWrites()}: KVM's dirty log does not see those. */
    private volatile boolean hostWrites;
    private volatile boolean romReadonly;
    private static final MemorySegment ZERO_PAGE = java.lang.foreign.Arena.global().allocate(MemoryMap.PAGE, MemoryMap.PAGE);

    /** A region and the host segment behind it. */
    private record Backing(Region region, MemorySegment host) {
    }

    /**
     * Maps host memory for every region of {@code map} and copies {@code rom} into the top of the
     * ROM (so its last byte sits just below 4 GiB).
     */
    public GuestMemory(MemoryMap map, byte[] rom) {
        this.map = map;
        try {
            MemorySegment romMapping = null;
            for (Region r : map.regions(Region.Kind.ROM)) {
                romMapping = mapAnonymous(r.size(), false, true); // written whole at once
                MemorySegment.copy(rom, 0, romMapping, ValueLayout.JAVA_BYTE, r.size() - rom.length, rom.length);
            }
            MemorySegment legacy = null; // pc.rom and the RAM under a small ROM: one mapping from 0xC0000
            for (Region r : map.regions()) {
                MemorySegment host = switch (r.kind()) {
                    case RAM -> mapAnonymous(r.size(), true, false);
                    case ROM -> romMapping;
                    case ROM_ALIAS -> {
                        if (romMapping == null) {
                            throw new IllegalStateException("ROM alias without a ROM");
                        }
                        yield romMapping.asSlice(romMapping.byteSize() - r.size(), r.size());
                    }
                    case OPTION_ROM, UNLISTED_RAM -> {
                        if (legacy == null) {
                            legacy = mapAnonymous(Layout.HIGH_RAM_START - Layout.OPTION_ROM_START, false, false);
                        }
                        yield legacy.asSlice(r.base() - Layout.OPTION_ROM_START, r.size());
                    }
                };
                backings.add(new Backing(r, host));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * @param populate the pages made in the mmap: for a mapping written whole at once (the ROM), rather than
     *     faulted in page by page by the copy (0.01 to 0.03 ms of a tiny machine on this nested host)
     */
    private MemorySegment mapAnonymous(long size, boolean ram, boolean populate) {
        int flags = LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_NORESERVE
                | (populate ? LibcConstants.MAP_POPULATE : 0);
        MemorySegment m = Libc.mmap(size, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE, flags, -1, 0);
        mappings.add(m);
        if (ram) {
            Libc.madvise(m, LibcConstants.MADV_HUGEPAGE); // advice only: a kernel without THP says no
        }
        return m;
    }

    /** The layout this memory backs. */
    public MemoryMap map() {
        return map;
    }

    /**
     * Registers every region with KVM as its own slot; the ROM, its alias and {@code pc.rom}
     * read-only when KVM can do that (a guest's write there is then an MMIO exit, which jkvm drops
     * as QEMU does; they are writable otherwise, which only a misbehaving guest would notice).
     */
    public void register(VmFd vm) {
        boolean readonly = vm.checkExtension(KvmConstants.KVM_CAP_READONLY_MEM) > 0;
        romReadonly = readonly;
        int slot = 0;
        for (Backing b : backings) {
            int flags = !b.region().kind().guestWritable() && readonly ? KvmConstants.KVM_MEM_READONLY : 0;
            vm.setUserMemoryRegion(slot++, flags, b.region().base(), b.host());
        }
    }

    /**
     * The host memory behind {@code [gpa, gpa + length)}, which must lie inside one region.
     *
     * @throws GuestMemoryException when it does not
     */
    public MemorySegment slice(long gpa, long length) {
        hostWrites = true; // the caller may write through it
        return sliceForReading(gpa, length);
    }

    private MemorySegment sliceForReading(long gpa, long length) {
        Backing b = backing(gpa, length);
        return b.host().asSlice(gpa - b.region().base(), length);
    }

    private Backing backing(long gpa, long length) {
        for (Backing b : backings) {
            if (b.region().contains(gpa, length)) {
                return b;
            }
        }
        throw new GuestMemoryException(gpa, length);
    }

    /** Whether {@code [gpa, gpa + length)} is backed by memory (RAM or ROM). */
    public boolean isBacked(long gpa, long length) {
        return map.regionOf(gpa, length).isPresent();
    }

    /**
     * pc-testdev's page flush: the protection of the RAM page at {@code gpa} is changed and changed
     * back in the host, which makes KVM drop its translation of it (every mprotect runs the MMU
     * notifier over the range) while the contents stay, as QEMU's two {@code mprotect}s do. QEMU
     * goes through PROT_NONE; jkvm widens to read-write-execute and back instead, so the page is
     * never inaccessible: a jkvm thread touching it in between (the monitor's xp, a device) would
     * take SIGSEGV, which kills the JVM. Anything but RAM (listed in e820 or not) is left alone.
     */
    public void flushPage(long gpa) {
        long page = gpa & ~(PAGE_SIZE - 1);
        for (Backing b : backings) {
            if (b.region().kind().guestWritable() && b.region().contains(page, PAGE_SIZE)) {
                MemorySegment host = b.host().asSlice(page - b.region().base(), PAGE_SIZE);
                int rw = dev.jkvm.kvm.abi.LibcConstants.PROT_READ | dev.jkvm.kvm.abi.LibcConstants.PROT_WRITE;
                try {
                    dev.jkvm.kvm.Libc.mprotect(host, rw | dev.jkvm.kvm.abi.LibcConstants.PROT_EXEC);
                } catch (dev.jkvm.kvm.KvmException e) {
                    // a host that refuses executable data (W^X policies): the flush is lost, nothing worse
                }
                dev.jkvm.kvm.Libc.mprotect(host, rw);
                return;
            }
        }
    }

    private static final long PAGE_SIZE = 4096;

    /** Copies guest-physical bytes out. */
    public byte[] read(long gpa, int length) {
        return sliceForReading(gpa, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Copies bytes into guest-physical memory (the VMM may write ROM; the guest may not). */
    public void write(long gpa, byte[] data) {
        MemorySegment.copy(data, 0, slice(gpa, data.length), ValueLayout.JAVA_BYTE, 0, data.length);
    }

    private static final ValueLayout.OfShort LE_U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The byte at {@code gpa}, unsigned. @throws GuestMemoryException outside guest memory */
    public int readU8(long gpa) {
        return (int) readUnsigned(gpa, 1);
    }

    /** The little-endian 16-bit word at {@code gpa}, unsigned. */
    public int readU16(long gpa) {
        return (int) readUnsigned(gpa, 2);
    }

    /** The little-endian 32-bit word at {@code gpa}, unsigned. */
    public long readU32(long gpa) {
        return readUnsigned(gpa, 4);
    }

    /** The little-endian 64-bit word at {@code gpa}. */
    public long readU64(long gpa) {
        return readUnsigned(gpa, 8);
    }

    /** The unsigned little-endian integer of {@code size} (1, 2, 4 or 8) bytes at {@code gpa}. */
    public long readUnsigned(long gpa, int size) {
        Backing b = backing(gpa, size);
        return unsigned(b.host(), gpa - b.region().base(), size);
    }

    /** The unsigned little-endian integer {@code bytes} hold (1, 2, 4 or 8 of them). */
    public static long littleEndian(byte[] bytes) {
        return unsigned(MemorySegment.ofArray(bytes), 0, bytes.length);
    }

    private static long unsigned(MemorySegment m, long offset, int size) {
        return switch (size) {
            case 1 -> Byte.toUnsignedLong(m.get(ValueLayout.JAVA_BYTE, offset));
            case 2 -> Short.toUnsignedLong(m.get(LE_U16, offset));
            case 4 -> Integer.toUnsignedLong(m.get(LE_U32, offset));
            case 8 -> m.get(LE_U64, offset);
            default -> throw new IllegalArgumentException("an integer is 1, 2, 4 or 8 bytes, not " + size);
        };
    }

    /** Writes the little-endian 16-bit word {@code value} at {@code gpa}. */
    public void writeU16(long gpa, int value) {
        Backing b = backing(gpa, 2);
        hostWrites = true;
        b.host().set(LE_U16, gpa - b.region().base(), (short) value);
    }

    /** Writes the little-endian 32-bit word {@code value} at {@code gpa}. */
    public void writeU32(long gpa, int value) {
        Backing b = backing(gpa, 4);
        hostWrites = true;
        b.host().set(LE_U32, gpa - b.region().base(), value);
    }

    /** Writes the little-endian 64-bit word {@code value} at {@code gpa}. */
    public void writeU64(long gpa, long value) {
        Backing b = backing(gpa, 8);
        hostWrites = true;
        b.host().set(LE_U64, gpa - b.region().base(), value);
    }

    /**
     * How many bytes from {@code gpa} on, at most {@code length}, are memory: across adjacent
     * regions (the ISA BIOS alias ends where RAM from 1 MiB starts), up to the first byte that is not.
     */
    public long backedLength(long gpa, long length) {
        long done = 0;
        while (done < length) {
            Region r = map.regionOf(gpa + done, 1).orElse(null);
            if (r == null) {
                break;
            }
            done += Math.min(length - done, r.end() - (gpa + done));
        }
        return done;
    }

    /**
     * Copies {@code [gpa, gpa + length)} into {@code into} at {@code offset}, all or nothing.
     *
     * @throws GuestMemoryException when some byte of the range is not memory
     */
    public void read(long gpa, byte[] into, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, into.length);
        if (backedLength(gpa, length) < length) {
            throw new GuestMemoryException(gpa, length);
        }
        copy(gpa, into, offset, length, false);
    }

    /** Copies {@code length} bytes of {@code from} at {@code offset} to {@code gpa}, all or nothing (ROM too). */
    public void write(long gpa, byte[] from, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, from.length);
        if (backedLength(gpa, length) < length) {
            throw new GuestMemoryException(gpa, length);
        }
        copy(gpa, from, offset, length, true);
    }

    /**
     * Copies out as much of {@code [gpa, gpa + into.length)} as is memory from {@code gpa} on and
     * returns its length (0 when the first byte is not).
     */
    public int readPrefix(long gpa, byte[] into) {
        int n = (int) backedLength(gpa, into.length);
        copy(gpa, into, 0, n, false);
        return n;
    }

    /** Writes like {@link #readPrefix} reads (ROM too: the VMM may write it); returns the bytes written. */
    public int writePrefix(long gpa, byte[] from) {
        int n = (int) backedLength(gpa, from.length);
        copy(gpa, from, 0, n, true);
        return n;
    }

    /** Moves a range that {@link #backedLength} found backed, region by region. */
    private void copy(long gpa, byte[] buf, int offset, int length, boolean write) {
        int done = 0;
        while (done < length) {
            long at = gpa + done;
            Backing b = backing(at, 1);
            int n = (int) Math.min(length - done, b.region().end() - at);
            MemorySegment host = b.host().asSlice(at - b.region().base(), n);
            if (write) {
                hostWrites = true;
                MemorySegment.copy(buf, offset + done, host, ValueLayout.JAVA_BYTE, 0, n);
            } else {
                MemorySegment.copy(host, ValueLayout.JAVA_BYTE, 0, buf, offset + done, n);
            }
            done += n;
        }
    }

    /** The bytes of guest memory (RAM and ROM, a ROM alias counted once): no read of the guest's can be longer. */
    public long size() {
        return map.regions().stream().filter(r -> r.kind() != Region.Kind.ROM_ALIAS).mapToLong(Region::size).sum();
    }

    /**
     * Touches every RAM page now ({@code -mem-prealloc}), so the guest never waits for the host to
     * find memory: one write per page, which makes the kernel back it.
     */
    public void prealloc() {
        for (Backing b : backings) {
            if (b.region().kind() == Region.Kind.RAM) {
                MemorySegment m = b.host();
                for (long off = 0; off < m.byteSize(); off += MemoryMap.PAGE) {
                    m.set(ValueLayout.JAVA_BYTE, off, (byte) 0);
                }
            }
        }
    }

    // ---- snapshots ----

    /** The regions a snapshot holds: RAM, ROM and pc.rom (a ROM alias is the same memory). */
    private List<Backing> saved() {
        return backings.stream().filter(b -> b.region().kind() != Region.Kind.ROM_ALIAS).toList();
    }

    /** Whether jkvm wrote guest memory itself since the last {@link #clearHostWrites()}. */
    public boolean hostWrites() {
        return hostWrites;
    }

    /** From now on {@link #hostWrites()} counts again. */
    public void clearHostWrites() {
        hostWrites = false;
    }

    /**
     * The memory now, sparse: pages of zeros (and pages the guest never touched, which read as
     * zeros) are not stored. The guest must not run meanwhile.
     */
    public MemoryImage capture() {
        List<MemoryImage.RegionImage> out = new ArrayList<>();
        for (Backing b : saved()) {
            MemorySegment host = b.host();
            int pages = (int) (host.byteSize() / MemoryMap.PAGE);
            int[] slots = new int[pages];
            int stored = 0;
            byte[] resident = resident(host);
            for (int p = 0; p < pages; p++) {
                slots[p] = (resident[p] & 1) == 0 || isZero(host, p) ? -1 : stored++;
            }
            MemoryImage.RegionImage r = MemoryImage.RegionImage.allocate(b.region().base(), host.byteSize(), slots, stored);
            for (int p = 0; p < pages; p++) {
                if (slots[p] >= 0) {
                    MemorySegment.copy(host, p * MemoryMap.PAGE, r.pages(), slots[p] * MemoryMap.PAGE, MemoryMap.PAGE);
                }
            }
            out.add(r);
        }
        return new MemoryImage(out);
    }

    /**
     * Per page of {@code host}: bit 0 set where the page was ever touched (present or swapped out,
     * from {@code /proc/self/pagemap}); an untouched page reads as zeros, and reading it would
     * fault it in. Where pagemap cannot be read, every page counts as touched.
     */
    private static byte[] resident(MemorySegment host) {
        int pages = (int) (host.byteSize() / MemoryMap.PAGE);
        byte[] out = new byte[pages];
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(pages * 8).order(java.nio.ByteOrder.nativeOrder());
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(java.nio.file.Path.of("/proc/self/pagemap"))) {
            long at = host.address() / MemoryMap.PAGE * 8;
            while (buf.hasRemaining()) {
                if (ch.read(buf, at + buf.position()) < 0) {
                    break;
                }
            }
        } catch (java.io.IOException e) {
            java.util.Arrays.fill(out, (byte) 1);
            return out;
        }
        for (int p = 0; p < pages; p++) {
            long entry = buf.getLong(p * 8);
            out[p] = (byte) ((entry >>> 62) != 0 ? 1 : 0); // bit 63 present, bit 62 swapped
        }
        return out;
    }

    private static boolean isZero(MemorySegment host, long page) {
        long at = page * MemoryMap.PAGE;
        return MemorySegment.mismatch(host, at, at + MemoryMap.PAGE, ZERO_PAGE, 0, MemoryMap.PAGE) < 0;
    }

    /** Why {@code image} cannot be put into this memory (another layout), or empty when it can. */
    public java.util.Optional<String> mismatch(MemoryImage image) {
        List<Backing> mine = saved();
        if (mine.size() != image.regions().size()) {
            return java.util.Optional.of(image.regions().size() + " memory regions in the snapshot, " + mine.size() + " here");
        }
        for (int i = 0; i < mine.size(); i++) {
            MemoryImage.RegionImage r = image.regions().get(i);
            Region here = mine.get(i).region();
            if (r.base() != here.base() || r.size() != here.size()) {
                return java.util.Optional.of(String.format("memory region %d is 0x%x+0x%x in the snapshot, 0x%x+0x%x here",
                        i, r.base(), r.size(), here.base(), here.size()));
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * Puts every page of {@code image} back: stored pages are copied, pages that must be zero and
     * are not are cleared; pages already right are not written (an untouched page stays untouched).
     *
     * @return how many pages were written
     */
    public long restoreAll(MemoryImage image) {
        mismatch(image).ifPresent(m -> {
            throw new IllegalArgumentException(m);
        });
        List<Backing> mine = saved();
        long written = 0;
        for (int i = 0; i < mine.size(); i++) {
            MemorySegment host = mine.get(i).host();
            MemoryImage.RegionImage r = image.regions().get(i);
            byte[] resident = resident(host);
            for (int p = 0; p < r.slots().length; p++) {
                long at = p * MemoryMap.PAGE;
                int slot = r.slots()[p];
                if (slot >= 0) {
                    long from = slot * MemoryMap.PAGE;
                    if (MemorySegment.mismatch(host, at, at + MemoryMap.PAGE, r.pages(), from, from + MemoryMap.PAGE) >= 0) {
                        MemorySegment.copy(r.pages(), from, host, at, MemoryMap.PAGE);
                        written++;
                    }
                } else if ((resident[p] & 1) != 0 && !isZero(host, p)) {
                    MemorySegment.copy(ZERO_PAGE, 0, host, at, MemoryMap.PAGE);
                    written++;
                }
            }
        }
        return written;
    }

    /**
     * Turns on KVM's dirty-page log for every slot of {@code vm} the guest can write (registered
     * by {@link #register}: the RAM, and the RAM under a small ROM) and returns it; the guest's
     * writes are counted from here.
     */
    public DirtyLog startDirtyLog(VmFd vm) {
        List<int[]> numbers = new ArrayList<>();
        List<MemorySegment> ram = new ArrayList<>();
        List<Backing> mine = saved();
        for (int slot = 0; slot < backings.size(); slot++) {
            Backing b = backings.get(slot);
            if (b.region().kind().guestWritable()) {
                vm.setUserMemoryRegion(slot, KvmConstants.KVM_MEM_LOG_DIRTY_PAGES, b.region().base(), b.host());
                numbers.add(new int[] {slot, mine.indexOf(b)});
                ram.add(b.host());
            }
        }
        DirtyLog log = new DirtyLog(vm, numbers, ram);
        log.clear();
        return log;
    }

    /** Whether the guest can write ROM (KVM without read-only slots): a dirty log does not cover it then. */
    public boolean romWritable() {
        return !romReadonly;
    }

    @Override
    public void close() {
        detach().run();
    }

    /**
     * Cuts jkvm off this memory (every access after it fails as one outside guest memory) and returns what unmaps it,
     * for a thread to run once nothing can touch the mappings (the VM gone or going, no vCPU thread, no device).
     */
    public Runnable detach() {
        List<MemorySegment> held = List.copyOf(mappings);
        mappings.clear();
        backings.clear();
        return () -> {
            for (MemorySegment m : held) {
                Libc.munmap(m);
            }
        };
    }
}
