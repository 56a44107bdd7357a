package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.trace.TraceRing;

/**
 * What one turn of a vCPU's run loop leaves in its {@code -exit-trace} ring: an exit with its
 * port or address, a kick, or a pause. Called only while tracing is on; writes two longs of
 * header and times into the ring and allocates nothing.
 */
final class VcpuTraceRecords {

    private VcpuTraceRecords() {
    }

    /**
     * The KVM_RUN that ran from {@code t0} to {@code t1} and was handled until {@code t2};
     * {@code reason} is what it returned, whose details are still in {@code exit}.
     */
    static void exit(TraceRing ring, VcpuExit exit, int reason, long t0, long t1, long t2) {
        long user = t2 - t1;
        switch (reason) {
            case VcpuFd.INTERRUPTED -> ring.put(TraceRing.head(TraceRing.KICK, 0, 0, 0, user), t0, t1, 0);
            case KvmConstants.KVM_EXIT_IO -> {
                VcpuExit.Io io = exit.io();
                ring.put(TraceRing.head(TraceRing.EXIT, reason, io.out() ? TraceRing.FLAG_OUT : 0, io.size(), user), t0, t1,
                        (long) io.count() << 16 | io.port());
            }
            case KvmConstants.KVM_EXIT_MMIO -> {
                VcpuExit.Mmio m = exit.mmio();
                ring.put(TraceRing.head(TraceRing.EXIT, reason, m.write() ? TraceRing.FLAG_OUT : 0, m.length(), user), t0, t1,
                        m.address());
            }
            default -> ring.put(TraceRing.head(TraceRing.EXIT, reason, 0, 0, user), t0, t1, 0);
        }
    }

    /** A pause that parked the vCPU from {@code parked} to {@code resumed}. */
    static void pause(TraceRing ring, long parked, long resumed) {
        ring.put(TraceRing.head(TraceRing.PAUSE, 0, 0, 0, 0), parked, resumed, 0);
    }
}
