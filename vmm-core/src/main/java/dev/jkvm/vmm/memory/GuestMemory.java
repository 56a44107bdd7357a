package dev.jkvm.vmm.memory;

import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.LibcConstants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The host memory behind a {@link MemoryMap}: one anonymous mapping per RAM region and one for the
 * ROM (its low alias is a slice of the same mapping), registered with KVM as one memory slot per
 * region, and bounds-checked guest-physical access for the VMM.
 *
 * <p>RAM is reserved, not touched: {@code MAP_NORESERVE} with transparent huge pages advised, so
 * a large guest that touches little costs the host little. Owns its mappings: {@link #close()}
 * unmaps them (after the VM that used them is gone).
 */
public final class GuestMemory implements AutoCloseable {

    private final MemoryMap map;
    private final List<Backing> backings = new ArrayList<>();
    private final List<MemorySegment> mappings = new ArrayList<>();

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
            for (Region r : map.regions()) {
                if (r.kind() == Region.Kind.RAM) {
                    backings.add(new Backing(r, mapAnonymous(r.size(), true)));
                } else if (r.kind() == Region.Kind.ROM) {
                    romMapping = mapAnonymous(r.size(), false);
                    MemorySegment.copy(rom, 0, romMapping, ValueLayout.JAVA_BYTE, r.size() - rom.length, rom.length);
                    backings.add(new Backing(r, romMapping));
                }
            }
            for (Region r : map.regions(Region.Kind.ROM_ALIAS)) {
                if (romMapping == null) {
                    throw new IllegalStateException("ROM alias without a ROM");
                }
                backings.add(new Backing(r, romMapping.asSlice(romMapping.byteSize() - r.size(), r.size())));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private MemorySegment mapAnonymous(long size, boolean ram) {
        int flags = LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_NORESERVE;
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
     * Registers every region with KVM as its own slot; ROM regions read-only when KVM can do that
     * (they are writable otherwise, which only a misbehaving guest would notice).
     */
    public void register(VmFd vm) {
        boolean readonly = vm.checkExtension(KvmConstants.KVM_CAP_READONLY_MEM) > 0;
        int slot = 0;
        for (Backing b : backings) {
            int flags = b.region().kind() != Region.Kind.RAM && readonly ? KvmConstants.KVM_MEM_READONLY : 0;
            vm.setUserMemoryRegion(slot++, flags, b.region().base(), b.host());
        }
    }

    /**
     * The host memory behind {@code [gpa, gpa + length)}, which must lie inside one region.
     *
     * @throws GuestMemoryException when it does not
     */
    public MemorySegment slice(long gpa, long length) {
        for (Backing b : backings) {
            if (b.region().contains(gpa, length)) {
                return b.host().asSlice(gpa - b.region().base(), length);
            }
        }
        throw new GuestMemoryException(gpa, length);
    }

    /** Whether {@code [gpa, gpa + length)} is backed by memory (RAM or ROM). */
    public boolean isBacked(long gpa, long length) {
        return map.regionOf(gpa, length).isPresent();
    }

    /** Copies guest-physical bytes out. */
    public byte[] read(long gpa, int length) {
        return slice(gpa, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Copies bytes into guest-physical memory (the VMM may write ROM; the guest may not). */
    public void write(long gpa, byte[] data) {
        MemorySegment.copy(data, 0, slice(gpa, data.length), ValueLayout.JAVA_BYTE, 0, data.length);
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

    @Override
    public void close() {
        for (MemorySegment m : mappings) {
            Libc.munmap(m);
        }
        mappings.clear();
        backings.clear();
    }
}
