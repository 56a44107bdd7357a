package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.CpuidEntry;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.testing.RequiresKvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every model against this host's real KVM_GET_SUPPORTED_CPUID, and KVM_SET_CPUID2 takes the result. */
@RequiresKvm
class KvmSupportedCpuidTest {

    @Test
    void everyModelBuildsAgainstTheRealHostAndKvmAcceptsIt() {
        CpuModels models = CpuModels.builtin();
        Topology topology = SmpOption.parse("4,sockets=2,cores=2");
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
            List<CpuidEntry> supported = kvm.supportedCpuid();
            vm.createIrqchip();
            try (VcpuFd vcpu = vm.createVcpu(0)) {
                for (CpuModel model : models.all()) {
                    CpuidPlan plan = CpuidPlan.create(CpuOption.parse(model.name()), models, topology, supported);
                    System.out.println("-cpu " + model.name() + ": " + plan.warnings().size() + " warning(s)");
                    plan.warnings().forEach(w -> System.out.println("  " + w));
                    List<CpuidEntry> entries = plan.entriesFor(0);
                    assertFalse(entries.isEmpty());
                    vcpu.setCpuid(entries);
                    CpuidDecoder decoder = new CpuidDecoder(entries);
                    if (!model.kind().fromHost() && !model.vendor().isEmpty()) { // base has no vendor
                        assertEquals(model.vendor(), decoder.vendor(), model.name());
                        assertEquals(model.family(), decoder.family(), model.name());
                    }
                    assertTrue(decoder.flags().contains("hypervisor"), model.name());
                }
            }
        }
    }
}
