package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.cpu.CpuidPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Machines of equal CPU configurations share one resolved {@link CpuSetup} (plan, what KVM kept,
 * warnings); any difference that changes the CPUs gets its own, and models from files are resolved
 * for every machine (the file may have changed).
 */
@RequiresKvm
class CpuSetupTest {

    private static MachineConfig.Builder tiny() {
        return MachineConfig.builder().firmware(BiosRom.bundled("debug-exit")).serial(SerialBackend.none()).irqchip(false);
    }

    /** A process's first machine is not kept (CpuSetup.cached): this test's machines are not the first. */
    @BeforeEach
    void notTheProcesssFirstMachine() {
        plan(tiny().cpu("qemu32").build());
    }

    private static CpuidPlan plan(MachineConfig config) {
        try (Machine m = Machine.create(config)) {
            return m.cpuid();
        }
    }

    @Test
    void equalConfigurationsShareThePlanAndTheWarnings() {
        MachineConfig a = tiny().cpu("qemu64,+x2apic").build();
        MachineConfig b = tiny().cpu("qemu64,+x2apic").build(); // equal, not the same object
        try (Machine first = Machine.create(a); Machine second = Machine.create(b)) {
            assertSame(first.cpuid(), second.cpuid());
            assertEquals(first.warnings(), second.warnings());
            assertEquals(first.cpuidFeaturesHonoured(), second.cpuidFeaturesHonoured());
        }
    }

    @Test
    void anotherModelPropertyTopologyOrIrqchipGetsItsOwnPlan() {
        CpuidPlan base = plan(tiny().build());
        CpuidPlan westmere = plan(tiny().cpu("Westmere").build());
        CpuidPlan property = plan(tiny().cpu("qemu64,-sse2").build());
        CpuidPlan twoCpus = plan(tiny().irqchip(true).cpus(2).build());
        CpuidPlan irqchip = plan(tiny().irqchip(true).build());
        assertNotSame(base, westmere);
        assertNotEquals(base.cpu().name(), westmere.cpu().name());
        assertNotSame(base, property);
        assertNotEquals(base.cpu().features(), property.cpu().features());
        assertNotSame(base, twoCpus);
        assertEquals(2, twoCpus.topology().cpus());
        assertNotSame(base, irqchip);
        assertNotSame(twoCpus, irqchip);
        assertSame(base, plan(tiny().build()), "and the first is still kept");
    }

    @Test
    void modelsFromAFileAreResolvedForEveryMachine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cpus.conf");
        Files.writeString(file, "[cpudef]\n  name = \"Mine\"\n  level = \"13\"\n  model_id = \"My own CPU\"\n");
        MachineConfig mine = tiny().readConfig(file).cpu("Mine").build();
        CpuidPlan before = plan(mine);
        assertEquals(13, before.cpu().level());
        Files.writeString(file, "[cpudef]\n  name = \"Mine\"\n  level = \"11\"\n  model_id = \"My own CPU\"\n");
        CpuidPlan after = plan(mine);
        assertNotSame(before, after);
        assertEquals(11, after.cpu().level(), "the file as it is now");
    }
}
