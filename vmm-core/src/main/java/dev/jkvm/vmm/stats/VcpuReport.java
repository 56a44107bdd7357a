package dev.jkvm.vmm.stats;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.host.ThreadTimes;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One vCPU's life in its three modes, as a value: the exits that reached jkvm (user mode), the
 * exits KVM handled without returning (kernel mode, from KVM's own binary statistics), and the time
 * the host accounted to the thread (guest mode where the host splits it out).
 *
 * @param index the vCPU index
 * @param threadName {@code CPU n/KVM}
 * @param tid its Linux thread id (0 once it ended)
 * @param user exits that reached jkvm, by reason, port and page, with handling times
 * @param kvm KVM's counters for this vCPU ({@code exits}, {@code io_exits}, {@code halt_exits}, ...); empty when KVM has no statistics file
 * @param times the thread's CPU times, or null when the thread is gone
 */
public record VcpuReport(int index, String threadName, int tid, UserModeStats user, Map<String, Long> kvm,
                         ThreadTimes times) {

    public VcpuReport {
        kvm = Collections.unmodifiableMap(new LinkedHashMap<>(kvm));
    }

    /** KVM's counter {@code name}, or -1 when it has none. */
    public long kvmCounter(String name) {
        return kvm.getOrDefault(name, -1L);
    }

    /**
     * Exits KVM handled in the kernel: KVM's count of all VM exits less those that reached jkvm with
     * an exit reason, so that user mode plus kernel mode is exactly KVM's {@code exits}; -1 when KVM
     * does not count exits. A kick's own VM exit (the host interrupt that delivers jkvm's signal)
     * counts here: KVM_RUN then returns with no exit reason. A kick that finds the vCPU halted or
     * outside guest mode costs no VM exit, so {@code signal_exits} is not subtracted.
     */
    public long kernelModeExits() {
        long all = kvmCounter("exits");
        return all < 0 ? -1 : Math.max(0, all - user.total());
    }

    /** Exits that reached jkvm yet KVM did not count as VM exits (its instruction emulator's I/O); 0 normally. */
    public long uncountedUserExits() {
        long all = kvmCounter("exits");
        return all < 0 ? 0 : Math.max(0, user.total() - all);
    }

    /** KVM's {@code io_exits} less the port-I/O exits that reached jkvm: port I/O KVM emulated itself (PIT, PIC, ...). */
    public long kernelModeIoExits() {
        long io = kvmCounter("io_exits");
        return io < 0 ? -1 : Math.max(0, io - user.count(KvmConstants.KVM_EXIT_IO));
    }

    /** KVM's {@code mmio_exits} less the MMIO exits that reached jkvm (the APICs, in the kernel). */
    public long kernelModeMmioExits() {
        long mmio = kvmCounter("mmio_exits");
        return mmio < 0 ? -1 : Math.max(0, mmio - user.count(KvmConstants.KVM_EXIT_MMIO));
    }
}
