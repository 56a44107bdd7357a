package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.jkvm.kvm.abi.KvmSegment;
import java.lang.foreign.MemorySegment;

/** A segment register as KVM describes it ({@code struct kvm_segment}): the selector and its hidden part. */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    /** This segment loaded as real mode loads a selector: base = selector * 16, limit 64 KiB, the rest kept. */
    public Segment realMode(int newSelector) {
        return new Segment((long) newSelector << 4, 0xffff, newSelector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    static Segment read(MemorySegment m, long at) {
        return new Segment(m.get(JAVA_LONG, at + KvmSegment.BASE), m.get(JAVA_INT, at + KvmSegment.LIMIT),
                Short.toUnsignedInt(m.get(JAVA_SHORT, at + KvmSegment.SELECTOR)),
                Byte.toUnsignedInt(m.get(JAVA_BYTE, at + KvmSegment.TYPE)), m.get(JAVA_BYTE, at + KvmSegment.PRESENT) != 0,
                m.get(JAVA_BYTE, at + KvmSegment.DPL), m.get(JAVA_BYTE, at + KvmSegment.DB) != 0,
                m.get(JAVA_BYTE, at + KvmSegment.S) != 0, m.get(JAVA_BYTE, at + KvmSegment.L) != 0,
                m.get(JAVA_BYTE, at + KvmSegment.G) != 0, m.get(JAVA_BYTE, at + KvmSegment.AVL) != 0,
                m.get(JAVA_BYTE, at + KvmSegment.UNUSABLE) != 0);
    }

    void write(MemorySegment m, long at) {
        m.set(JAVA_LONG, at + KvmSegment.BASE, base);
        m.set(JAVA_INT, at + KvmSegment.LIMIT, limit);
        m.set(JAVA_SHORT, at + KvmSegment.SELECTOR, (short) selector);
        m.set(JAVA_BYTE, at + KvmSegment.TYPE, (byte) type);
        m.set(JAVA_BYTE, at + KvmSegment.PRESENT, (byte) (present ? 1 : 0));
        m.set(JAVA_BYTE, at + KvmSegment.DPL, (byte) dpl);
        m.set(JAVA_BYTE, at + KvmSegment.DB, (byte) (db ? 1 : 0));
        m.set(JAVA_BYTE, at + KvmSegment.S, (byte) (s ? 1 : 0));
        m.set(JAVA_BYTE, at + KvmSegment.L, (byte) (l ? 1 : 0));
        m.set(JAVA_BYTE, at + KvmSegment.G, (byte) (g ? 1 : 0));
        m.set(JAVA_BYTE, at + KvmSegment.AVL, (byte) (avl ? 1 : 0));
        m.set(JAVA_BYTE, at + KvmSegment.UNUSABLE, (byte) (unusable ? 1 : 0));
    }
}
