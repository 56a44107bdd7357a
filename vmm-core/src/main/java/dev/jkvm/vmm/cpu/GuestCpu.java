package dev.jkvm.vmm.cpu;

/**
 * The CPU the guest will see, settled: model, {@code -cpu} settings and the host's limits applied.
 * Everything the CPUID leaves are computed from, except the topology.
 *
 * <pre>{@code
 * GuestCpu cpu = plan.cpu();
 * cpu.features().has(FeatureWord.LEAF1_ECX, 25);   // aes?
 * }</pre>
 *
 * @param name the model name
 * @param vendor 12-character vendor string
 * @param signature CPUID.1:EAX (family, model, stepping)
 * @param level basic leaf limit (CPUID.0:EAX)
 * @param level7 highest sub-leaf of leaf 7
 * @param xlevel extended leaf limit (CPUID.80000000H:EAX), below 0x80000000 for none
 * @param modelId brand string
 * @param features the feature bits the guest gets
 * @param xcr0 XSAVE components offered (CPUID.0DH.0:EDX:EAX)
 * @param caches cache descriptions
 * @param l3Cache whether an L3 is reported
 * @param kvmLeaves whether the 0x40000000 KVM leaves are present
 * @param pmu whether leaf 0xA is passed through from the host
 * @param physBits physical address bits
 * @param virtBits linear address bits (64-bit CPUs only)
 * @param guestPhysBits guest-physical address bits (CPUID.80000008H:EAX[23:16]), 0 for unset
 */
public record GuestCpu(String name, String vendor, int signature, int level, int level7, int xlevel, String modelId,
        FeatureBits features, long xcr0, CacheModel caches, boolean l3Cache, boolean kvmLeaves, boolean pmu,
        int physBits, int virtBits, int guestPhysBits) {

    /** Whether the vendor is Intel. */
    public boolean isIntel() {
        return vendor.equals(CpuModel.INTEL);
    }

    /** Whether the vendor is AMD. */
    public boolean isAmd() {
        return vendor.equals(CpuModel.AMD);
    }

    /** Whether the CPU is 64-bit (CPUID.80000001H:EDX.lm). */
    public boolean longMode() {
        return features.has(FeatureWord.EXT1_EDX, 29);
    }
}
