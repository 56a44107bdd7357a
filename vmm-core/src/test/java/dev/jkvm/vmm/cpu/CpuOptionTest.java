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
}
