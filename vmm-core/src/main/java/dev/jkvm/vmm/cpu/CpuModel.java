package dev.jkvm.vmm.cpu;

import java.util.Objects;

/**
 * A named CPU model: the identity and feature bits a guest sees before the host's limits are
 * applied. Built-in models come from the resource {@code cpu-models.conf}; users add their own
 * in the same {@code [cpudef]} format.
 *
 * <pre>{@code
 * CpuModel m = CpuModels.builtin().find("Westmere").orElseThrow();
 * m.family();   // 6
 * m.model();    // 44
 * }</pre>
 *
 * @param name the {@code -cpu} name (case-sensitive, as QEMU)
 * @param kind how the model is resolved: from its own data, or from the host
 * @param origin where it was defined: {@code built-in} or {@code FILE:LINE}
 * @param vendor the 12-character vendor string
 * @param family display family (extended family folded in, e.g. 23 for Zen)
 * @param model display model (extended model folded in)
 * @param stepping 0..15
 * @param level minimum basic leaf limit (raised automatically for the features present)
 * @param xlevel minimum extended leaf limit ({@code 0x800000xx}, or 0 for none)
 * @param modelId the brand string (up to 48 characters)
 * @param features requested feature bits
 * @param caches the cache data the model reports
 * @param vendorFixed whether the vendor was chosen on purpose ({@code vendor_override})
 */
public record CpuModel(String name, Kind kind, String origin, String vendor, int family, int model, int stepping,
        int level, int xlevel, String modelId, FeatureBits features, CacheModel caches, boolean vendorFixed) {

    /** QEMU's vendor strings. */
    public static final String INTEL = "GenuineIntel";
    public static final String AMD = "AuthenticAMD";

    /** Where the model's data comes from. */
    public enum Kind {
        /** Shipped with jkvm. */
        BUILTIN,
        /** Read from a {@code [cpudef]} file. */
        FILE,
        /** {@code host}: every feature KVM supports, the host's identity. */
        HOST,
        /** {@code max}: under KVM the same as {@code host}. */
        MAX;

        /** Whether the model takes its features and identity from the host. */
        public boolean fromHost() {
            return this == HOST || this == MAX;
        }
    }

    public CpuModel {
        Objects.requireNonNull(name);
        Objects.requireNonNull(kind);
        Objects.requireNonNull(origin);
        Objects.requireNonNull(vendor);
        Objects.requireNonNull(modelId);
        Objects.requireNonNull(features);
        Objects.requireNonNull(caches);
        if (vendor.length() != 12 && !vendor.isEmpty() && !kind.fromHost()) { // empty: QEMU's base model
            throw new IllegalArgumentException("vendor '" + vendor + "' is not 12 characters");
        }
        if (modelId.length() > 48) {
            throw new IllegalArgumentException("model_id longer than 48 characters");
        }
    }

    /** Whether the vendor is Intel (QEMU's IS_INTEL_CPU). */
    public boolean isIntel() {
        return vendor.equals(INTEL);
    }

    /** Whether the vendor is AMD (QEMU's IS_AMD_CPU). */
    public boolean isAmd() {
        return vendor.equals(AMD);
    }

    /** The same model with other feature bits. */
    public CpuModel withFeatures(FeatureBits bits) {
        return new CpuModel(name, kind, origin, vendor, family, model, stepping, level, xlevel, modelId, bits, caches,
                vendorFixed);
    }

    /** The CPUID.1:EAX signature: stepping, model, family with their extended fields (QEMU's encoding). */
    public int signature() {
        return CpuSignature.encode(family, model, stepping);
    }
}
