package dev.jkvm.vmm.board;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * {@code -d unimp}: one log line for the first guest access to each port or MMIO page no device
 * claims (the bus reads those as all ones and drops writes). Later accesses to the same place are
 * counted by the exit statistics, not logged.
 */
public final class UnimplementedLog {

    private final Consumer<String> log;
    private final Set<Long> seen = ConcurrentHashMap.newKeySet();

    public UnimplementedLog(Consumer<String> log) {
        this.log = log;
    }

    /** A port nobody claims. */
    public void port(boolean write, long port, int size, long value) {
        if (seen.add(port)) {
            log.accept(String.format("jkvm: unimplemented port 0x%04x: %s of %d byte(s)%s", port, write ? "write" : "read",
                    size, write ? String.format(" (value 0x%x)", value) : ", reads as all ones"));
        }
    }

    /** An MMIO address nobody claims. */
    public void mmio(boolean write, long address, int size, long value) {
        if (seen.add(Long.MIN_VALUE | address >>> 12)) {
            log.accept(String.format("jkvm: unimplemented MMIO at 0x%x: %s of %d byte(s)%s", address,
                    write ? "write" : "read", size, write ? String.format(" (value 0x%x)", value) : ", reads as all ones"));
        }
    }
}
