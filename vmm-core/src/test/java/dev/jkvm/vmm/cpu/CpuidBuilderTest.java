package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.CpuidEntry;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuidBuilderTest {

    private static final CpuModels MODELS = CpuModels.builtin();
    private static final Topology TWO_TWO_TWO = SmpOption.parse("8,sockets=2,cores=2,threads=2");

    private static CpuidPlan plan(String cpu, Topology topology, List<CpuidEntry> host) {
        return CpuidPlan.create(CpuOption.parse(cpu, MODELS), MODELS, topology, host);
    }

    private static CpuidPlan plan(String cpu, Topology topology) {
        return plan(cpu, topology, SyntheticHost.intel());
    }

    private static int[] regs(List<CpuidEntry> entries, int leaf, int sub) {
        CpuidEntry e = new CpuidDecoder(entries).find(leaf, sub).orElseThrow(() -> new AssertionError(
                String.format("no leaf %x.%d", leaf, sub)));
        return new int[] {e.eax(), e.ebx(), e.ecx(), e.edx()};
    }

    private static List<CpuidEntry> leaves(List<CpuidEntry> entries, int leaf) {
        return entries.stream().filter(e -> e.function() == leaf).toList();
    }

    @Test
    void westmereHasAesAndNotAvx() {
        CpuidDecoder d = new CpuidDecoder(plan("Westmere", Topology.SINGLE).entriesFor(0));
        assertEquals("GenuineIntel", d.vendor());
        assertEquals(6, d.family());
        assertEquals(44, d.model());
        assertEquals(1, d.stepping());
        assertEquals("Westmere E56xx/L56xx/X56xx (Nehalem-C)", d.brand());
        Set<String> flags = d.flags();
        assertTrue(flags.containsAll(Set.of("aes", "pclmulqdq", "sse4_2", "popcnt", "lahf_lm", "arat", "lm")));
        assertFalse(flags.contains("avx"));
        assertFalse(flags.contains("xsave"));
    }

    @Test
    void missingHostFeatureGivesQemuWarningOnce() {
        List<CpuidEntry> noPni = SyntheticHost.without(SyntheticHost.intel(), 1, 0, Register.ECX, 0);
        CpuidPlan plan = plan("qemu64", SmpOption.parse("8,sockets=2,cores=4"), noPni);
        assertEquals(List.of("warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]"),
                plan.warnings());
        for (int i = 0; i < 8; i++) {
            assertFalse(new CpuidDecoder(plan.entriesFor(i)).flags().contains("pni"));
        }
        assertEquals(1, plan.warnings().size());
    }

    @Test
    void warningsNameTheWordOfExtendedLeaves() {
        List<CpuidEntry> host = SyntheticHost.without(SyntheticHost.intel(), 0x80000001, 0, Register.ECX, 0);
        host = SyntheticHost.without(host, 7, 0, Register.EBX, 5);
        CpuidPlan plan = plan("Haswell", Topology.SINGLE, host);
        assertEquals(List.of("warning: host doesn't support requested feature: CPUID.07H:EBX.avx2 [bit 5]",
                "warning: host doesn't support requested feature: CPUID.80000001H:ECX.lahf-lm [bit 0]"),
                plan.warnings());
    }

    @Test
    void enforceTurnsTheWarningIntoAnError() {
        List<CpuidEntry> noPni = SyntheticHost.without(SyntheticHost.intel(), 1, 0, Register.ECX, 0);
        CpuConfigException e = assertThrows(CpuConfigException.class,
                () -> plan("qemu64,enforce", Topology.SINGLE, noPni));
        assertEquals("Host doesn't support requested features: CPUID.01H:ECX.pni [bit 0]", e.getMessage());
        assertTrue(plan("qemu64,enforce", Topology.SINGLE).warnings().isEmpty());
    }

    @Test
    void leaf1CarriesApicIdLogicalCountAndHtt() {
        CpuidPlan plan = plan("Skylake-Client", TWO_TWO_TWO);
        int[] r = regs(plan.entriesFor(5), 1, 0);
        assertEquals(0x000506e3, r[0]);
        assertEquals(5 << 24 | 4 << 16 | 8 << 8, r[1]);
        assertTrue((r[3] & 1 << 28) != 0, "HTT");
        assertTrue((r[2] & 1 << 31) != 0, "hypervisor");
        assertEquals(0, r[2] & 1 << 27, "OSXSAVE is the guest's to set");
        assertEquals(0, regs(plan("Skylake-Client", Topology.SINGLE).entriesFor(0), 1, 0)[3] & 1 << 28);
    }

    @Test
    void leaf4DescribesCachesAndSharing() {
        List<CpuidEntry> e = plan("Skylake-Client", TWO_TWO_TWO).entriesFor(5);
        assertArrayEquals(new int[] {0x04004121, 0x01c0003f, 63, 1}, regs(e, 4, 0));
        assertArrayEquals(new int[] {0x04004122, 0x01c0003f, 63, 1}, regs(e, 4, 1));
        assertArrayEquals(new int[] {0x04004143, 0x03c0003f, 4095, 1}, regs(e, 4, 2));
        assertArrayEquals(new int[] {0x0400c163, 0x03c0003f, 16383, 6}, regs(e, 4, 3));
        assertArrayEquals(new int[4], regs(e, 4, 4));
        assertEquals(5, leaves(e, 4).size());
        assertArrayEquals(new int[] {1, 0, 0x4d, 0x002c307d}, regs(e, 2, 0));
    }

    @Test
    void leafBGivesSmtAndCoreLevelsAndX2apicId() {
        List<CpuidEntry> e = plan("Skylake-Client", TWO_TWO_TWO).entriesFor(5);
        assertArrayEquals(new int[] {1, 2, 0x100, 5}, regs(e, 0xb, 0));
        assertArrayEquals(new int[] {2, 4, 0x201, 5}, regs(e, 0xb, 1));
        assertArrayEquals(new int[] {0, 0, 2, 5}, regs(e, 0xb, 2));
        assertEquals(3, leaves(e, 0xb).size());
        assertTrue(leaves(e, 0x1f).isEmpty());
        for (int i = 0; i < 8; i++) {
            assertEquals(i, regs(plan("Skylake-Client", TWO_TWO_TWO).entriesFor(i), 0xb, 0)[3]);
        }
    }

    @Test
    void diesBringLeaf1F() {
        CpuidPlan plan = plan("Skylake-Client", SmpOption.parse("8,sockets=1,dies=2,cores=2,threads=2"));
        assertEquals(0x1f, plan.cpu().level());
        List<CpuidEntry> e = plan.entriesFor(7);
        assertArrayEquals(new int[] {1, 2, 0x100, 7}, regs(e, 0x1f, 0));
        assertArrayEquals(new int[] {2, 4, 0x201, 7}, regs(e, 0x1f, 1));
        assertArrayEquals(new int[] {3, 8, 0x502, 7}, regs(e, 0x1f, 2));
        assertArrayEquals(new int[] {0, 0, 3, 7}, regs(e, 0x1f, 3));
    }

    @Test
    void apicIdsWidenForThreeCores() {
        CpuidPlan plan = plan("Skylake-Client", SmpOption.parse("6,sockets=2,cores=3"));
        List<CpuidEntry> e = plan.entriesFor(3);
        assertEquals(4, plan.apicId(3));
        assertEquals(4, regs(e, 1, 0)[1] >>> 24);
        assertArrayEquals(new int[] {0, 1, 0x100, 4}, regs(e, 0xb, 0));
        assertArrayEquals(new int[] {2, 3, 0x201, 4}, regs(e, 0xb, 1));
        assertEquals(3, regs(e, 4, 0)[0] >>> 26, "core IDs per package - 1 from the 2-bit field");
    }

    @Test
    void subleafEntriesAreFlagged() {
        for (CpuidEntry e : plan("Skylake-Server", TWO_TWO_TWO).entriesFor(0)) {
            boolean indexed = Set.of(4, 7, 0xb, 0xd, 0x1f, 0x8000001d).contains(e.function());
            assertEquals(indexed ? CpuidBuilder.SIGNIFICANT_INDEX : 0, e.flags(),
                    String.format("leaf %x.%d", e.function(), e.index()));
        }
    }

    @Test
    void xsaveLeafFollowsTheModelsComponents() {
        List<CpuidEntry> sky = plan("Skylake-Client", Topology.SINGLE).entriesFor(0);
        assertArrayEquals(new int[] {7, 832, 832, 0}, regs(sky, 0xd, 0));
        assertArrayEquals(new int[] {0b111, 832, 0, 0}, regs(sky, 0xd, 1));
        assertArrayEquals(new int[] {256, 576, 0, 0}, regs(sky, 0xd, 2));
        assertEquals(3, leaves(sky, 0xd).size());
        List<CpuidEntry> skx = plan("Skylake-Server", Topology.SINGLE).entriesFor(0);
        assertArrayEquals(new int[] {0x2e7, 0xa88, 0xa88, 0}, regs(skx, 0xd, 0));
        assertTrue(leaves(plan("Westmere", Topology.SINGLE).entriesFor(0), 0xd).isEmpty());
    }

    @Test
    void kvmLeavesUnlessKvmOff() {
        List<CpuidEntry> e = plan("qemu64", Topology.SINGLE).entriesFor(0);
        int[] sig = regs(e, 0x40000000, 0);
        assertEquals(0x40000001, sig[0]);
        assertEquals("KVMKVMKVM\0\0\0", HostCpuid.ascii(sig[1], sig[2], sig[3]));
        int kvm = regs(e, 0x40000001, 0)[0];
        assertEquals(1 | 1 << 1 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 24, kvm);
        List<CpuidEntry> off = plan("qemu64,kvm=off", Topology.SINGLE).entriesFor(0);
        assertTrue(off.stream().noneMatch(x -> x.function() >= 0x40000000 && x.function() < 0x40000100));
        assertTrue((regs(off, 1, 0)[2] & 1 << 31) != 0, "still says it runs on a hypervisor");
    }

    @Test
    void kvm64AndHostDiffer() {
        CpuidDecoder kvm64 = new CpuidDecoder(plan("kvm64", Topology.SINGLE).entriesFor(0));
        CpuidDecoder host = new CpuidDecoder(plan("host", Topology.SINGLE).entriesFor(0));
        assertEquals("Common KVM processor", kvm64.brand());
        assertEquals(SyntheticHost.BRAND, host.brand());
        assertEquals(15, kvm64.family());
        assertEquals(6, host.family());
        assertEquals(85, host.model());
        assertNotEquals(kvm64.flags(), host.flags());
        assertTrue(host.flags().containsAll(kvm64.flags()));
        assertTrue(host.flags().contains("avx512f"));
        assertFalse(kvm64.flags().contains("avx512f"));
        assertFalse(host.flags().contains("ht"), "HTT is not passed through");
        assertEquals(plan("host", Topology.SINGLE).cpu().level(), 0x1f);
        assertEquals(new CpuidDecoder(plan("max", Topology.SINGLE).entriesFor(0)).flags(), host.flags());
    }

    @Test
    void hostPassesTheHostsPmuLeaf() {
        assertArrayEquals(new int[] {0x07300802, 0, 0, 0x603},
                regs(plan("host", Topology.SINGLE).entriesFor(0), 0xa, 0));
        assertTrue(leaves(plan("Skylake-Client", Topology.SINGLE).entriesFor(0), 0xa).isEmpty());
    }

    @Test
    void extendedLeavesOfAnIntelModel() {
        List<CpuidEntry> e = plan("Skylake-Client", TWO_TWO_TWO).entriesFor(0);
        int[] vendor = regs(e, 0x80000000, 0);
        assertEquals(0x80000008, vendor[0]);
        assertArrayEquals(new int[] {0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140}, regs(e, 0x80000005, 0));
        assertArrayEquals(new int[] {0, 0x42004200, 0x02008140, 0x00808140}, regs(e, 0x80000006, 0));
        assertArrayEquals(new int[] {0x3028, 0, 2 << 12 | 3, 0}, regs(e, 0x80000008, 0)); // QEMU's 40 bits, not the host's 39
        assertEquals(0, regs(e, 0x80000001, 0)[2] & 1 << 1, "no CmpLegacy for Intel");
    }

    @Test
    void amdModelLeaves() {
        CpuidPlan plan = plan("EPYC", SmpOption.parse("4,sockets=1,cores=4"));
        assertEquals(CpuModel.AMD, plan.cpu().vendor());
        List<CpuidEntry> e = plan.entriesFor(3);
        int[] ext = regs(e, 0x80000001, 0);
        assertTrue((ext[2] & 1 << 1) != 0, "CmpLegacy for a multi-core AMD package");
        assertEquals(regs(e, 1, 0)[3] & CpuidBuilder.AMD_ALIASES, ext[3] & CpuidBuilder.AMD_ALIASES);
        assertArrayEquals(new int[4], regs(e, 2, 0));
        assertArrayEquals(new int[4], regs(e, 4, 0));
        assertArrayEquals(new int[] {0x01ff01ff, 0x01ff01ff, 0x20080140, 0x40040140}, regs(e, 0x80000005, 0));
        assertArrayEquals(new int[] {0, 0x42004200, 0x02006140, 0x00408140}, regs(e, 0x80000006, 0));
        assertEquals(2 << 12 | 3, regs(e, 0x80000008, 0)[2]);
        assertEquals(5, leaves(e, 0x8000001d).size());
        assertEquals(0x121 | 0 << 14, regs(e, 0x8000001d, 0)[0]);
        assertEquals(0x163 | 3 << 14, regs(e, 0x8000001d, 3)[0]);
        assertArrayEquals(new int[] {3, 3, 0, 0}, regs(e, 0x8000001e, 0));
        assertFalse(new CpuidDecoder(e).flags().contains("svm"), "QEMU switches svm off under KVM");
    }

    @Test
    void hostVendorModeShowsTheHostsVendorLikeQemu() {
        CpuidPlan plan = CpuidPlan.create(CpuOption.parse("EPYC"), MODELS, Topology.SINGLE,
                HostCpuid.of(SyntheticHost.intel()), true);
        assertEquals(CpuModel.INTEL, plan.cpu().vendor());
        assertEquals(23, new CpuidDecoder(plan.entriesFor(0)).family());
    }

    @Test
    void thirtyTwoBitModelsHaveNoLongModeAddressSizes() {
        List<CpuidEntry> e = plan("kvm32", Topology.SINGLE).entriesFor(0);
        assertArrayEquals(new int[] {36, 0, 0, 0}, regs(e, 0x80000008, 0));
        assertEquals(0x80000004, plan("qemu32", Topology.SINGLE).cpu().xlevel());
        assertEquals(4, plan("qemu32", Topology.SINGLE).cpu().level());
        assertTrue(leaves(plan("qemu32", Topology.SINGLE).entriesFor(0), 0xb).isEmpty());
    }

    @Test
    void withoutInKernelIrqchipX2apicIsNotOffered() {
        CpuidPlan plan = CpuidPlan.create(CpuOption.parse("Haswell"), MODELS, Topology.SINGLE,
                HostCpuid.of(SyntheticHost.intel(), false), false);
        assertFalse(new CpuidDecoder(plan.entriesFor(0)).flags().contains("x2apic"));
        assertTrue(plan.warnings().isEmpty(), plan.warnings().toString());
    }

    @Test
    void everyModelBuildsForEveryCpu() {
        for (CpuModel m : MODELS.all()) {
            CpuidPlan plan = plan(m.name(), TWO_TWO_TWO);
            for (int i = 0; i < 8; i++) {
                List<CpuidEntry> e = plan.entriesFor(i);
                assertEquals(i, regs(e, 1, 0)[1] >>> 24, m.name());
                assertTrue(e.size() <= CpuidBuilder.MAX_ENTRIES);
            }
        }
    }

    @Test
    void invtscOnlyWhenNotMigratableOrAskedFor() {
        assertFalse(new CpuidDecoder(plan("host", Topology.SINGLE).entriesFor(0)).flags().contains("invtsc"));
        assertTrue(new CpuidDecoder(plan("host,migratable=off", Topology.SINGLE).entriesFor(0)).flags()
                .contains("invtsc"));
        assertTrue(new CpuidDecoder(plan("Skylake-Client,+invtsc", Topology.SINGLE).entriesFor(0)).flags()
                .contains("invtsc"));
    }

    @Test
    void aHostListWithoutIdentityLeavesStillBuilds() {
        List<CpuidEntry> bare = List.of(new CpuidEntry(1, 0, 0, 0x00050654, 0, 1, 1));
        CpuidDecoder d = new CpuidDecoder(plan("host", Topology.SINGLE, bare).entriesFor(0));
        assertEquals("\0".repeat(12), d.vendor());
        assertTrue(d.flags().contains("fpu"));
        assertTrue(d.flags().contains("hypervisor"));
    }

    @Test
    void amdWithoutTopoextWarnsAboutThreadsAsQemu() {
        assertEquals(List.of("warning: This family of AMD CPU doesn't support hyperthreading(2). "
                + "Please configure -smp options properly or try enabling topoext feature."),
                plan("qemu64", TWO_TWO_TWO).warnings());
        assertTrue(plan("EPYC", TWO_TWO_TWO).warnings().isEmpty());
        assertTrue(plan("qemu64", SmpOption.parse("4,sockets=2,cores=2")).warnings().isEmpty());
    }
}
