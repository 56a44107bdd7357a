package dev.jkvm.vmm.memory;

import dev.jkvm.kvm.Sregs;

/**
 * Guest memory as jkvm's own tools see it (the embedding API, the GDB stub, the monitor, QMP):
 * guest-physical ranges, and guest-virtual ones through a vCPU's page tables as its control
 * registers select them now. jkvm walks the tables itself, one walk per page, so a range may
 * cross pages mapped anywhere. Two kinds of access: whole ranges, all or a
 * {@link GuestMemoryException} (nothing is allocated for a read longer than the guest's memory);
 * and prefixes, which move what is there and say how much, as gdb's memory packets want.
 *
 * <pre>{@code
 * GuestView view = new GuestView(memory, cpu -> vcpus.get(cpu).fd().sregs());
 * byte[] code = view.readVirtual(0, 0xffffffff81000000L, 16);
 * }</pre>
 */
public final class GuestView {

    /** Where the view gets a vCPU's special registers: asked of its thread, or read directly while it is held. */
    @FunctionalInterface
    public interface ControlRegisters {
        Sregs of(int cpu);
    }

    private static final long PAGE = MemoryMap.PAGE;

    private final GuestMemory memory;
    private final ControlRegisters registers;

    public GuestView(GuestMemory memory, ControlRegisters registers) {
        this.memory = memory;
        this.registers = registers;
    }

    /** The memory behind the view. */
    public GuestMemory memory() {
        return memory;
    }

    /** The same memory, with each vCPU's control registers from {@code other}. */
    public GuestView withRegisters(ControlRegisters other) {
        return new GuestView(memory, other);
    }

    /** vCPU {@code cpu}'s page tables, as its control registers select them now. */
    public PageWalker walker(int cpu) {
        return PageWalker.of(memory, registers.of(cpu));
    }

    // ---- whole ranges ----

    /**
     * Copies guest-physical {@code [gpa, gpa + length)} out (RAM or ROM, across adjacent regions).
     *
     * @throws GuestMemoryException when a byte of it is not memory or it is longer than the guest's memory
     */
    public byte[] readPhysical(long gpa, int length) {
        checkLength(gpa, length);
        byte[] out = new byte[length];
        memory.read(gpa, out, 0, length);
        return out;
    }

    /**
     * Copies {@code data} into guest-physical memory (ROM too), all or nothing.
     *
     * @throws GuestMemoryException when a byte of the range is not memory
     */
    public void writePhysical(long gpa, byte[] data) {
        memory.write(gpa, data, 0, data.length);
    }

    /** {@link #readVirtual(PageWalker, long, int)} through vCPU {@code cpu}'s page tables now. */
    public byte[] readVirtual(int cpu, long gva, int length) {
        return readVirtual(walker(cpu), gva, length);
    }

    /**
     * Copies guest-virtual {@code [gva, gva + length)} out, page by page through {@code walker}.
     * Every page is translated before anything is allocated for the bytes.
     *
     * @throws GuestMemoryException when a page is not mapped ({@link GuestMemoryException#virtual()}),
     *     maps something that is not memory (MMIO), or the range is longer than the guest's memory
     */
    public byte[] readVirtual(PageWalker walker, long gva, int length) {
        checkLength(gva, length);
        long first = gva & -PAGE;
        long[] pages = new long[(int) (((gva - first) + length + PAGE - 1) / PAGE)];
        for (int i = 0; i < pages.length; i++) {
            long va = i == 0 ? gva : first + i * PAGE;
            long gpa = walker.walk(va).gpa().orElseThrow(() -> GuestMemoryException.notMapped(va));
            long chunk = Math.min(gva + length - va, PAGE - (va & (PAGE - 1)));
            if (!memory.isBacked(gpa, chunk)) {
                throw new GuestMemoryException(gpa, chunk);
            }
            pages[i] = gpa;
        }
        byte[] out = new byte[length];
        int done = 0;
        for (long gpa : pages) {
            int chunk = (int) Math.min(length - done, PAGE - (gpa & (PAGE - 1)));
            memory.read(gpa, out, done, chunk);
            done += chunk;
        }
        return out;
    }

    /**
     * The unsigned little-endian integer of {@code size} (1, 2, 4 or 8) bytes at guest-virtual
     * {@code gva}; its bytes may lie on two pages mapped anywhere.
     *
     * @throws GuestMemoryException as {@link #readVirtual(PageWalker, long, int)}
     */
    public long readVirtualUnsigned(PageWalker walker, long gva, int size) {
        return GuestMemory.littleEndian(readVirtual(walker, gva, size));
    }

    // ---- prefixes ----

    /** Copies as much of guest-physical {@code [gpa, gpa + into.length)} out as is memory; returns its length. */
    public int readPhysicalPrefix(long gpa, byte[] into) {
        return memory.readPrefix(gpa, into);
    }

    /** Writes like {@link #readPhysicalPrefix} reads (ROM included: gdb plants breakpoints in firmware). */
    public int writePhysicalPrefix(long gpa, byte[] from) {
        return memory.writePrefix(gpa, from);
    }

    /**
     * Copies as much of guest-virtual {@code [gva, gva + into.length)} out, through vCPU
     * {@code cpu}'s page tables, as is mapped to memory; returns its length (0 when the first byte is not).
     */
    public int readVirtualPrefix(int cpu, long gva, byte[] into) {
        return virtualPrefix(walker(cpu), gva, into, false);
    }

    /** Writes like {@link #readVirtualPrefix} reads (ROM included); returns the bytes written. */
    public int writeVirtualPrefix(int cpu, long gva, byte[] from) {
        return virtualPrefix(walker(cpu), gva, from, true);
    }

    /** Page by page through {@code walker}: stops at the first page not mapped, or not mapped to memory. */
    private int virtualPrefix(PageWalker walker, long gva, byte[] buf, boolean write) {
        int done = 0;
        while (done < buf.length) {
            long va = gva + done;
            var gpa = walker.walk(va).gpa();
            if (gpa.isEmpty()) {
                break;
            }
            int chunk = (int) Math.min(buf.length - done, PAGE - (va & (PAGE - 1)));
            if (!memory.isBacked(gpa.get(), chunk)) {
                break; // a page is all memory or none: regions are whole pages
            }
            if (write) {
                memory.write(gpa.get(), buf, done, chunk);
            } else {
                memory.read(gpa.get(), buf, done, chunk);
            }
            done += chunk;
        }
        return done;
    }

    /** A length no read can have: negative, or more than the guest's memory (refused before allocating it). */
    private void checkLength(long address, int length) {
        if (length < 0) {
            throw new IllegalArgumentException("negative length " + length);
        }
        if (length > memory.size()) {
            throw GuestMemoryException.tooLong(address, length, memory.size());
        }
    }
}
