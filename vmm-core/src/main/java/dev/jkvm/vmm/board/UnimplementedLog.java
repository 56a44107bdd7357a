package dev.jkvm.vmm.board;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * {@code -d unimp}: one log line for the first guest access to each port or MMIO page no device
 * claims (the bus reads those as all ones and drops writes). Later accesses to the same place are
 * counted by the exit statistics, not logged. The places remembered are capped ({@link #LIMIT}): a
 * guest that touches every port and page gets {@code LIMIT} lines and one saying the log stops.
 */
public final class UnimplementedLog {

    /** Distinct places logged at most; a set per place would otherwise grow with every page a guest touches. */
    public static final int LIMIT = 4096;

    private final Consumer<String> log;
    private final Set<Long> seen = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean full = new java.util.concurrent.atomic.AtomicBoolean();

    public UnimplementedLog(Consumer<String> log) {
        this.log = log;
    }

    /** A port nobody claims. */
    public void port(boolean write, long port, int size, long value) {
        if (first(port)) {
            log.accept(String.format("jkvm: unimplemented port 0x%04x: %s of %d byte(s)%s", port, write ? "write" : "read",
                    size, write ? String.format(" (value 0x%x)", value) : ", reads as all ones"));
        }
    }

    /** An MMIO address nobody claims. */
    public void mmio(boolean write, long address, int size, long value) {
        if (first(Long.MIN_VALUE | address >>> 12)) {
            log.accept(String.format("jkvm: unimplemented MMIO at 0x%x: %s of %d byte(s)%s", address,
                    write ? "write" : "read", size, write ? String.format(" (value 0x%x)", value) : ", reads as all ones"));
        }
    }

    /** Whether {@code place} is new and there is room to remember it; says once when there is no more. */
    private boolean first(long place) {
        if (seen.size() >= LIMIT) {
            if (!seen.contains(place) && full.compareAndSet(false, true)) {
                log.accept("jkvm: -d unimp: " + LIMIT + " unhandled places logged; no more are (the exit statistics count them all)");
            }
            return false;
        }
        return seen.add(place);
    }
}
