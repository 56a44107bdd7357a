package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.E820;
import java.util.ArrayList;
import java.util.List;

/**
 * Plans where a loader puts things before it writes anything: only into usable RAM as the guest's
 * e820 map shows it (so ranges the machine reserved, e.g. ACPI tables, are avoided), never over
 * something already placed. A loader plans everything, then writes: a kernel that does not fit is
 * refused with guest memory untouched.
 */
final class RamPlanner {

    static final long PAGE = 4096;

    private final List<E820.Entry> usable;
    private final List<BootEntry.Placement> taken = new ArrayList<>();

    RamPlanner(E820 e820) {
        this.usable = e820.usable();
    }

    /** Whether {@code [base, base + size)} is inside one usable RAM range. */
    boolean isUsable(long base, long size) {
        for (E820.Entry e : usable) {
            if (e.contains(base, size)) {
                return true;
            }
        }
        return false;
    }

    /** What already occupies part of {@code [base, base + size)}, or null. */
    BootEntry.Placement overlapping(long base, long size) {
        for (BootEntry.Placement p : taken) {
            if (p.overlaps(base, size)) {
                return p;
            }
        }
        return null;
    }

    /** Records {@code [base, base + size)} as holding {@code what}; the caller checked it is free. */
    BootEntry.Placement take(String what, long base, long size) {
        BootEntry.Placement p = new BootEntry.Placement(what, base, size);
        taken.add(p);
        return p;
    }

    /** The loader's low-memory data area, which every layout has as RAM. */
    void takeBootData(String what, long base, long size) {
        if (!isUsable(base, size)) {
            throw new IllegalStateException(String.format("%s at 0x%x is not usable RAM", what, base));
        }
        take(what, base, size);
    }

    /**
     * The highest {@code align}-aligned address where {@code size} bytes fit in usable RAM, free,
     * ending at or below {@code ceiling}; -1 if there is none.
     */
    long highest(long size, long align, long ceiling) {
        for (E820.Entry e : usable.reversed()) {
            long end = Math.min(e.end(), ceiling);
            while (end - e.base() >= size) {
                long base = (end - size) & -align;
                if (base < e.base()) {
                    break;
                }
                BootEntry.Placement clash = overlapping(base, size);
                if (clash == null) {
                    return base;
                }
                end = clash.base();
            }
        }
        return -1;
    }

    /**
     * The lowest {@code align}-aligned address at or above {@code floor} where {@code size} bytes
     * fit in usable RAM, free; -1 if there is none.
     */
    long lowest(long size, long align, long floor) {
        for (E820.Entry e : usable) {
            long base = alignUp(Math.max(e.base(), floor), align);
            while (base >= e.base() && e.end() - base >= size) {
                BootEntry.Placement clash = overlapping(base, size);
                if (clash == null) {
                    return base;
                }
                base = alignUp(clash.end(), align);
            }
        }
        return -1;
    }

    /** Everything placed so far, in placing order. */
    List<BootEntry.Placement> placements() {
        return List.copyOf(taken);
    }

    static long alignUp(long value, long align) {
        return (value + align - 1) & -align;
    }
}
