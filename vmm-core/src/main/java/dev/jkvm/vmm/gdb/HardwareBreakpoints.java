package dev.jkvm.vmm.gdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The four x86 debug-register slots shared by hardware breakpoints and watchpoints, and their
 * DR7 encoding: per slot n a global-enable bit (2n+1), the R/W condition at bits 16+4n (00
 * execute, 01 write, 11 read/write) and the length at bits 18+4n (1 byte 00, 2 bytes 01, 8 bytes
 * 10, 4 bytes 11). A watched range that is not one aligned 1/2/4/8-byte piece is split into
 * aligned pieces, one slot each, as gdb does for native x86 targets; insertion is all or nothing.
 * The same slots apply to every vCPU.
 *
 * <pre>{@code
 * HardwareBreakpoints hw = new HardwareBreakpoints();
 * hw.insert(BreakpointKind.WRITE, 0x1000, 4);   // DR0 = 0x1000
 * hw.dr7()                                      // 0x600 | 0b11_01 << 16 | 0b10
 * }</pre>
 */
final class HardwareBreakpoints {

    static final int SLOTS = 4;
    /** DR7 bit 10 reads as one; bit 9 (GE) asks for exact data breakpoints. QEMU sets both. */
    static final long DR7_FIXED = 0x600;

    /** One occupied slot: what it watches and which gdb request it belongs to. */
    record Slot(BreakpointKind kind, long address, int length, long requestAddress, long requestLength) {
    }

    /** An aligned piece of a watched range. */
    record Piece(long address, int length) {
    }

    private final Slot[] slots = new Slot[SLOTS];

    /** Occupies slots for a request; false (and nothing changed) when they do not suffice. */
    boolean insert(BreakpointKind kind, long address, long length) {
        List<Piece> pieces = kind == BreakpointKind.HARDWARE ? List.of(new Piece(address, 1)) : split(address, length);
        if (pieces.isEmpty() || pieces.size() > free()) {
            return false;
        }
        for (Piece p : pieces) {
            for (int n = 0; n < SLOTS; n++) {
                if (slots[n] == null) {
                    slots[n] = new Slot(kind, p.address(), p.length(), address, length);
                    break;
                }
            }
        }
        return true;
    }

    /** Frees the slots of one matching request; true when there was one. */
    boolean remove(BreakpointKind kind, long address, long length) {
        int pieces = kind == BreakpointKind.HARDWARE ? 1 : split(address, length).size();
        int removed = 0;
        for (int n = 0; n < SLOTS && removed < pieces; n++) {
            Slot s = slots[n];
            if (s != null && s.kind() == kind && s.requestAddress() == address
                    && (kind == BreakpointKind.HARDWARE || s.requestLength() == length)) {
                slots[n] = null;
                removed++;
            }
        }
        return removed > 0;
    }

    void clear() {
        Arrays.fill(slots, null);
    }

    boolean isEmpty() {
        return free() == SLOTS;
    }

    /** Slot n, or null when free. */
    Slot slot(int n) {
        return slots[n];
    }

    /** DR0-DR3: the slot addresses (0 for free slots). */
    long[] addresses() {
        long[] a = new long[SLOTS];
        for (int n = 0; n < SLOTS; n++) {
            a[n] = slots[n] == null ? 0 : slots[n].address();
        }
        return a;
    }

    /** DR7 for the occupied slots; 0 when none is. */
    long dr7() {
        long dr7 = 0;
        for (int n = 0; n < SLOTS; n++) {
            if (slots[n] != null) {
                dr7 |= dr7Bits(n, slots[n].kind(), slots[n].length());
            }
        }
        return dr7 == 0 ? 0 : dr7 | DR7_FIXED;
    }

    /** The DR7 bits that enable slot {@code n} for {@code kind} over {@code length} bytes. */
    static long dr7Bits(int n, BreakpointKind kind, int length) {
        if (n < 0 || n >= SLOTS || kind == BreakpointKind.SOFTWARE) {
            throw new IllegalArgumentException("no debug register slot " + n + " for " + kind);
        }
        long lengthBits = kind == BreakpointKind.HARDWARE ? 0 : switch (length) {
            case 1 -> 0b00;
            case 2 -> 0b01;
            case 8 -> 0b10;
            case 4 -> 0b11;
            default -> throw new IllegalArgumentException("a debug register watches 1, 2, 4 or 8 bytes, not " + length);
        };
        return 2L << (2 * n) | (long) kind.rwBits << (16 + 4 * n) | lengthBits << (18 + 4 * n);
    }

    /** Cuts a range into naturally aligned pieces of 1, 2, 4 or 8 bytes, largest first; empty for a bad range. */
    static List<Piece> split(long address, long length) {
        List<Piece> pieces = new ArrayList<>();
        if (length <= 0 || length > SLOTS * 8L) {
            return pieces;
        }
        long at = address;
        long left = length;
        while (left > 0) {
            int size = 8;
            while (size > 1 && ((at & (size - 1)) != 0 || size > left)) {
                size /= 2;
            }
            pieces.add(new Piece(at, size));
            at += size;
            left -= size;
        }
        return pieces;
    }

    private int free() {
        int free = 0;
        for (Slot s : slots) {
            if (s == null) {
                free++;
            }
        }
        return free;
    }
}
