package dev.jkvm.vmm;

import dev.jkvm.kvm.CpuidEntry;
import dev.jkvm.vmm.cpu.Topology;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPUID of one vCPU before named CPU models exist: KVM's supported leaves with the fields that
 * must differ per processor (its initial APIC ID in leaf 1, its x2APIC ID in leaves 0xB/0x1F).
 */
final class CpuidPatch {

    private CpuidPatch() {
    }

    static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, Topology topology, int index) {
        int apicId = topology.apicId(index);
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            out.add(switch (e.function()) {
                case 1 -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(),
                        (e.ebx() & 0x0000ffff) | (Math.min(255, topology.threadsPerPackage()) << 16) | (apicId << 24),
                        e.ecx(), e.edx());
                case 0xb, 0x1f -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx(), apicId);
                default -> e;
            });
        }
        return out;
    }
}
