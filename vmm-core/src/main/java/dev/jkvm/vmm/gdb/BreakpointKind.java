package dev.jkvm.vmm.gdb;

/**
 * The five kinds of {@code Z}/{@code z} packets, by their type digit, and what each becomes in a
 * debug register: the DR7 R/W field (00 execute, 01 write, 11 read/write) and the stop-reply key.
 * x86 has no read-only watchpoint, so a read watchpoint uses the read/write condition (gdb then
 * tells a read from a write itself by comparing the value, as it does for native x86 targets).
 *
 * <pre>{@code
 * BreakpointKind.ofType(2)   // WRITE
 * }</pre>
 */
enum BreakpointKind {
    SOFTWARE(-1, null),
    HARDWARE(0b00, "hwbreak"),
    WRITE(0b01, "watch"),
    READ(0b11, "rwatch"),
    ACCESS(0b11, "awatch");

    /** DR7 R/W bits, or -1 for a software breakpoint. */
    final int rwBits;
    /** The stop-reply key of a hit. */
    final String stopKey;

    BreakpointKind(int rwBits, String stopKey) {
        this.rwBits = rwBits;
        this.stopKey = stopKey;
    }

    /** The kind for a {@code Z}/{@code z} type digit; throws {@link IllegalArgumentException} beyond 0-4. */
    static BreakpointKind ofType(int type) {
        if (type < 0 || type > 4) {
            throw new IllegalArgumentException("breakpoint type " + type);
        }
        return values()[type];
    }

    boolean isWatchpoint() {
        return this == WRITE || this == READ || this == ACCESS;
    }
}
