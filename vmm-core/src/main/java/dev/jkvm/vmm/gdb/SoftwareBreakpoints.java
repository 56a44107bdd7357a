package dev.jkvm.vmm.gdb;

import java.util.Map;
import java.util.TreeMap;

/**
 * Software breakpoints: an {@code int3} (0xCC) written over the first byte of an instruction,
 * the original byte kept to put back on removal. gdb must never see the 0xCC: memory reads are
 * {@link #mask masked} with the originals, and a memory write over a breakpoint changes the
 * saved original while the 0xCC stays in place.
 *
 * <p>Each breakpoint remembers the address space it was written in (virtual through which vCPU,
 * or physical) and is restored through the same one. Owned by the session thread.
 *
 * <pre>{@code
 * SoftwareBreakpoints bps = new SoftwareBreakpoints();
 * bps.insert(memory, false, 0xffffffff81000000L);   // saves the byte, writes 0xCC
 * bps.mask(false, 0xffffffff81000000L, bytesRead);  // gdb sees the original
 * }</pre>
 */
final class SoftwareBreakpoints {

    static final byte INT3 = (byte) 0xCC;

    /** Where a breakpoint is: its address space and address. */
    record Place(boolean physical, long address) implements Comparable<Place> {
        @Override
        public int compareTo(Place o) {
            int c = Boolean.compare(physical, o.physical);
            return c != 0 ? c : Long.compareUnsigned(address, o.address);
        }
    }

    private record Inserted(MemoryAccess memory, byte original) {
    }

    private final TreeMap<Place, Inserted> inserted = new TreeMap<>();

    /** Inserts a breakpoint; true when it is in place (also when it already was). */
    boolean insert(MemoryAccess memory, boolean physical, long address) {
        Place place = new Place(physical, address);
        if (inserted.containsKey(place)) {
            return true;
        }
        byte[] original = new byte[1];
        if (memory.read(address, original) != 1 || memory.write(address, new byte[] {INT3}) != 1) {
            return false;
        }
        inserted.put(place, new Inserted(memory, original[0]));
        return true;
    }

    /** Removes a breakpoint, putting the original byte back; true when the byte is back (or there was none). */
    boolean remove(boolean physical, long address) {
        Inserted bp = inserted.remove(new Place(physical, address));
        return bp == null || bp.memory.write(address, new byte[] {bp.original}) == 1;
    }

    /** Removes every breakpoint; returns how many could not be restored. */
    int removeAll() {
        int failed = 0;
        for (Map.Entry<Place, Inserted> e : inserted.entrySet()) {
            if (e.getValue().memory.write(e.getKey().address(), new byte[] {e.getValue().original}) != 1) {
                failed++;
            }
        }
        inserted.clear();
        return failed;
    }

    boolean isEmpty() {
        return inserted.isEmpty();
    }

    boolean contains(boolean physical, long address) {
        return inserted.containsKey(new Place(physical, address));
    }

    /**
     * The addresses of all breakpoints, to match a #BP's RIP against. A physical-mode one only
     * matches while paging is off (or where linear and physical agree).
     */
    long[] addresses() {
        return inserted.keySet().stream().mapToLong(Place::address).distinct().toArray();
    }

    /** Puts the original bytes over the 0xCCs in {@code data}, which was read from {@code address}. */
    void mask(boolean physical, long address, byte[] data, int length) {
        forEachIn(physical, address, length, (offset, place) -> data[offset] = inserted.get(place).original);
    }

    /**
     * After {@code data} was written at {@code address}: the written bytes become the originals
     * of the breakpoints they cover, and the 0xCCs go back in.
     */
    void rearmAfterWrite(boolean physical, long address, byte[] data, int length) {
        forEachIn(physical, address, length, (offset, place) -> {
            Inserted bp = inserted.get(place);
            inserted.put(place, new Inserted(bp.memory, data[offset]));
            bp.memory.write(place.address(), new byte[] {INT3});
        });
    }

    private interface Visitor {
        void visit(int offset, Place place);
    }

    private void forEachIn(boolean physical, long address, int length, Visitor visitor) {
        if (length <= 0 || inserted.isEmpty()) {
            return;
        }
        for (Place place : inserted.keySet().toArray(Place[]::new)) {
            long offset = place.address() - address;
            if (place.physical() == physical && Long.compareUnsigned(offset, length) < 0) {
                visitor.visit((int) offset, place);
            }
        }
    }
}
