package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuOptionTest {

    private final CpuModels models = CpuModels.builtin();

    private Set<String> flags(String cpu) {
        CpuidPlan plan = CpuidPlan.create(CpuOption.parse(cpu, models), models, Topology.SINGLE,
                SyntheticHost.intel());
        return new CpuidDecoder(plan.entriesFor(0)).flags();
    }

    private static String refusal(String text) {
        return assertThrows(CpuConfigException.class, () -> CpuOption.parse(text, CpuModels.builtin()))
                .getMessage();
    }

    @Test
    void parsesModelFlagsAndSwitches() {
        CpuOption o = CpuOption.parse("Nehalem,-sse4.2,+aes,x2apic=off,enforce,kvm=off");
        assertEquals("Nehalem", o.model());
        assertEquals(List.of("aes"), o.plus());
        assertEquals(List.of("sse4.2"), o.minus());
        assertEquals(List.of(new CpuOption.Assignment("x2apic", false)), o.assignments());
        assertTrue(o.enforce());
        assertFalse(o.kvm());
    }

    @Test
    void minusFeatureDropsIt() {
        Set<String> plain = flags("Nehalem");
        assertTrue(plain.contains("sse4_2"));
        Set<String> without = flags("Nehalem,-sse4_2");
        assertFalse(without.contains("sse4_2"));
        assertTrue(without.contains("sse4_1"));
        assertFalse(flags("Nehalem,-sse4.2").contains("sse4_2"));
        assertFalse(flags("Nehalem,sse4-2=off").contains("sse4_2"));
    }

    @Test
    void plusFeatureAddsIt() {
        assertFalse(flags("Westmere").contains("avx"));
        assertTrue(flags("Westmere,+avx").contains("avx"));
        assertTrue(flags("Westmere,avx").contains("avx"));
        assertTrue(flags("kvm64,+lahf_lm").contains("lahf_lm"));
    }

    @Test
    void plusAndMinusWinOverAssignmentsWhateverTheOrder() {
        assertFalse(flags("Haswell,-x2apic,x2apic=on").contains("x2apic"));
        assertTrue(flags("Haswell,x2apic=off,+x2apic").contains("x2apic"));
        assertFalse(flags("Haswell,+x2apic,-x2apic").contains("x2apic"));
    }

    @Test
    void qemuDefaultsForKvmAreApplied() {
        Set<String> f = flags("qemu64");
        assertTrue(f.contains("x2apic"));
        assertTrue(f.contains("kvmclock"));
        assertTrue(f.contains("hypervisor"));
        assertFalse(f.contains("svm"));
        assertTrue(flags("qemu64,+svm").contains("svm"));
    }

    @Test
    void unknownModelOrFlagIsOneLine() {
        assertEquals("unable to find CPU model 'NoSuchModel'", refusal("NoSuchModel"));
        assertEquals("Property 'nosuchflag' not found", refusal("qemu64,+nosuchflag"));
        assertEquals("Property 'nosuchflag' not found", refusal("qemu64,-nosuchflag"));
        assertEquals("Property 'nosuchflag' not found", refusal("qemu64,nosuchflag=on"));
        assertEquals("Property 'ospke' not found", refusal("qemu64,+ospke"));
        assertEquals("Parameter 'sse2' expects 'on' or 'off'", refusal("qemu64,sse2=maybe"));
        assertEquals("value of property 'vendor' must consist of exactly 12 characters",
                refusal("qemu64,vendor=Intel"));
        assertEquals("parameter 'stepping' can be at most 15", refusal("qemu64,stepping=16"));
    }

    @Test
    void helpIsRecognised() {
        assertTrue(CpuOption.isHelp("help"));
        assertTrue(CpuOption.isHelp("?"));
        assertFalse(CpuOption.isHelp("host"));
    }

    @Test
    void identityPropertiesOverrideTheModel() {
        CpuidPlan plan = CpuidPlan.create(
                CpuOption.parse("kvm64,vendor=AuthenticAMD,model-id=Test CPU,family=23,model=49,stepping=2"),
                models, Topology.SINGLE, SyntheticHost.intel());
        CpuidDecoder d = new CpuidDecoder(plan.entriesFor(0));
        assertEquals("AuthenticAMD", d.vendor());
        assertEquals("Test CPU", d.brand());
        assertEquals(23, d.family());
        assertEquals(49, d.model());
        assertEquals(2, d.stepping());
    }

    @Test
    void levelPropertiesAreTakenAsGiven() {
        CpuidPlan plan = CpuidPlan.create(CpuOption.parse("Westmere,level=4,xlevel=0x80000004"), models,
                Topology.SINGLE, SyntheticHost.intel());
        assertEquals(4, plan.cpu().level());
        assertEquals(0x80000004, plan.cpu().xlevel());
        assertTrue(plan.entriesFor(0).stream().noneMatch(e -> e.function() == 0xb || e.function() == 0x80000008));
    }

    private GuestCpu cpu(String text) {
        return CpuidPlan.create(CpuOption.parse(text, models), models, Topology.SINGLE, SyntheticHost.intel()).cpu();
    }

    private List<String> warnings(String text) {
        return CpuidPlan.create(CpuOption.parse(text, models), models, Topology.SINGLE, SyntheticHost.intel()).warnings();
    }

    @Test
    void physBitsFollowQemu() {
        int host = cpu("max").physBits();
        assertEquals(40, cpu("qemu64").physBits(), "QEMU's default for a 64-bit model");
        assertEquals(host, cpu("qemu64,host-phys-bits").physBits());
        assertEquals(Math.min(host, 39), cpu("host,host-phys-bits-limit=39").physBits());
        assertEquals(44, cpu("Westmere,phys-bits=44").physBits());
        assertEquals(host == 44 ? List.of() : List.of("warning: Host physical bits (" + host
                + ") does not match phys-bits property (44)"), warnings("Westmere,phys-bits=44"));
        assertEquals(36, cpu("qemu32").physBits());
        assertEquals(32, cpu("486").physBits());
        assertEquals(48, cpu("Icelake-Server,-la57").virtBits());
        assertEquals(0, cpu("qemu64").guestPhysBits(), "QEMU 7.2 sets no guest-physical width");
        String e = assertThrows(CpuConfigException.class, () -> cpu("qemu64,phys-bits=53")).getMessage();
        assertEquals("phys-bits should be between 32 and 52  (but is 53)", e);
        assertEquals("phys-bits should be between 32 and 52  (but is 31)",
                assertThrows(CpuConfigException.class, () -> cpu("qemu64,phys-bits=31")).getMessage());
        assertEquals("phys-bits is not user-configurable in 32 bit",
                assertThrows(CpuConfigException.class, () -> cpu("qemu32,phys-bits=36")).getMessage());
        assertEquals("Parameter 'phys-bits' expects a number", refusal("qemu64,phys-bits=lots"));
    }

    @Test
    void hypervEnlightenmentsAreRefusedAsAHostLackingThem() {
        assertEquals("Hyper-V relaxed timing (hv-relaxed) is not supported by jkvm", refusal("qemu64,hv-relaxed"));
        assertEquals("Hyper-V relaxed timing (hv-relaxed) is not supported by jkvm", refusal("qemu64,hv_relaxed=on"));
        assertEquals("Hyper-V VP_INDEX MSR (hv-vpindex) is not supported by jkvm", refusal("kvm64,+hv-vpindex"));
        assertEquals("Hyper-V synthetic interrupt controller (hv-synic) is not supported by jkvm",
                refusal("host,hv-vendor-id=KVMtest,hv-synic=on"));
        assertEquals("Hyper-V passthrough (hv-passthrough) is not supported by jkvm", refusal("host,hv-passthrough"));
        assertEquals("Hyper-V spinlock retries (hv-spinlocks) are not supported by jkvm",
                refusal("qemu64,hv-spinlocks=0x1fff"));
        assertEquals("Property 'hv-frobnicate' not found", refusal("qemu64,hv-frobnicate"));
        // switched off, or parameters with nothing switched on: accepted, as QEMU accepts them
        CpuOption.parse("qemu64,hv-relaxed=off,-hv-time,hv-vendor-id=KVMtest,hv-spinlocks=0xffffffff,"
                + "hv-no-nonarch-coresharing=auto,hv-enforce-cpuid=on,hv-version-id-major=10", models);
    }

    @Test
    void kvmParavirtualFeaturesAndPropertiesAreAccepted() {
        GuestCpu c = cpu("qemu64,kvm-pv-eoi=on,kvm-pv-unhalt,+kvm-pv-tlb-flush,kvm-pv-ipi=on,kvm-pv-sched-yield=on,"
                + "pmu=off,migratable=on,host-phys-bits=off");
        assertTrue(c.kvmLeaves());
        assertFalse(c.pmu());
        assertTrue(cpu("qemu64,pmu=on").pmu());
    }
}
