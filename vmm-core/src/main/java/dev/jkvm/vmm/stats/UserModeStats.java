package dev.jkvm.vmm.stats;

import dev.jkvm.kvm.abi.KvmConstants;
import java.util.List;

/**
 * The exits of one vCPU that reached jkvm (user mode), as a value.
 *
 * @param reasons exits by {@code KVM_EXIT_*} reason with the time jkvm spent handling them
 * @param ports port-I/O exits by port and direction ({@code port == -1}: beyond the table's capacity)
 * @param mmio MMIO exits by 4 KiB page and direction
 * @param nanosInKvmRun wall time inside {@code KVM_RUN} (guest mode plus kernel mode)
 * @param nanosOutside wall time in jkvm between runs (user mode, including parked time)
 * @param interruptions returns from {@code KVM_RUN} caused by a kick rather than the guest
 */
public record UserModeStats(List<ByReason> reasons, List<ByPort> ports, List<ByPage> mmio, long nanosInKvmRun,
                            long nanosOutside, long interruptions) {

    public UserModeStats {
        reasons = List.copyOf(reasons);
        ports = List.copyOf(ports);
        mmio = List.copyOf(mmio);
    }

    /** Exits of one reason. */
    public record ByReason(int reason, long count, long nanos) {
        /** {@code KVM_EXIT_IO} and so on. */
        public String name() {
            return KvmConstants.exitReasonName(reason);
        }
    }

    /** Port-I/O exits of one port and direction. */
    public record ByPort(int port, boolean out, long count, long nanos) {
    }

    /** MMIO exits to one page in one direction. */
    public record ByPage(long page, boolean write, long count, long nanos) {
    }

    /** All exits that reached user mode. */
    public long total() {
        return reasons.stream().mapToLong(ByReason::count).sum();
    }

    /** Exits of {@code reason}. */
    public long count(int reason) {
        return reasons.stream().filter(r -> r.reason() == reason).mapToLong(ByReason::count).sum();
    }

    /** Port exits of one port and direction. */
    public long portCount(int port, boolean out) {
        return ports.stream().filter(p -> p.port() == port && p.out() == out).mapToLong(ByPort::count).sum();
    }
}
