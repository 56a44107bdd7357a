package dev.jkvm.vmm.vcpu;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.stats.VcpuCounters;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Makes the machine's power-ons, each a fresh VM over the same memory, buses and per-vCPU counters:
 * a cold boot (firmware tables and kernel written, the BSP at the entry point), an S3 resume (the
 * BSP in real mode at the firmware waking vector), or a blank one a snapshot is restored into.
 *
 * @param bootImage writes what a cold boot finds in memory and sets the BSP's entry state
 * @param opened told of every new session before it runs (the exit trace attaches to its vCPUs)
 */
public record SessionFactory(Kvm kvm, GuestMemory memory, PortBus ports, MmioBus mmio, CpuidPlan cpuid,
                             List<VcpuCounters> counters, Map<Integer, BitSet> affinity, boolean irqchip,
                             DebugHook debug, Consumer<VmSession> bootImage, Consumer<VmSession> opened) {

    /** A power-on after a reset, or the first one. */
    public VmSession coldBoot() {
        return open(bootImage);
    }

    /** A power-on whose memory and vCPU state a snapshot is about to replace. */
    public VmSession blank() {
        return open(s -> { });
    }

    /** The resume from S3, as firmware does it: the BSP at {@code vector} in real mode, the other vCPUs waiting for INIT/SIPI. */
    public VmSession resumeAt(long vector) {
        return open(s -> {
            VcpuFd bsp = s.vcpus().getFirst().fd();
            Sregs sr = bsp.sregs();
            bsp.setSregs(sr.withCs(sr.cs().realMode((int) (vector >>> 4))));
            bsp.setRegs(bsp.regs().withRip(vector & 0xf));
        });
    }

    private VmSession open(Consumer<VmSession> prepare) {
        VmSession s = new VmSession(kvm, memory, ports, mmio, cpuid, counters, affinity, irqchip, debug);
        try {
            prepare.accept(s);
            opened.accept(s);
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }
}
