package dev.jkvm.vmm.trace;

import dev.jkvm.kvm.KvmStats;
import java.util.function.Consumer;

/** Where the trace writer samples KVM's own counters of each vCPU (its binary statistics). */
@FunctionalInterface
public interface CounterSource {

    /** A source with no counters. */
    CounterSource NONE = (vcpu, reader) -> false;

    /**
     * Refreshes vCPU {@code vcpu}'s statistics and hands them to {@code reader}, while they cannot
     * be closed under it; false when there are none now (no binary statistics, the VM is gone).
     */
    boolean read(int vcpu, Consumer<KvmStats> reader);
}
