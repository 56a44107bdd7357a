package dev.jkvm.vmm.cpu;

/**
 * A processor's CPUID leaf 1 identity: EAX's signature (family, model and stepping with their
 * extended fields) and EDX's feature flags, as the MP table's processor entries repeat them. The
 * static methods pack and unpack the signature word.
 *
 * <pre>{@code
 * CpuSignature.encode(6, 44, 1);     // 0x000206c1
 * CpuSignature.family(0x00800f12);   // 23
 * new CpuSignature(leaf1.eax(), leaf1.edx());
 * }</pre>
 *
 * @param signature CPUID.1:EAX
 * @param features CPUID.1:EDX
 */
public record CpuSignature(int signature, int features) {

    /**
     * Family 6 model 6 stepping 3 (QEMU's generic CPU) with the features every x86-64 processor has:
     * FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2.
     */
    public static final CpuSignature DEFAULT = new CpuSignature(0x0000_0663, 0x078B_FBFD);

    /** Packs the display family/model/stepping as QEMU's family/model/stepping properties do. */
    public static int encode(int family, int model, int stepping) {
        if (family < 0 || family > 0xff + 0xf || model < 0 || model > 0xff || stepping < 0 || stepping > 0xf) {
            throw new IllegalArgumentException("family " + family + " model " + model + " stepping " + stepping);
        }
        int eax = family > 0xf ? 0xf00 | (family - 0xf) << 20 : family << 8;
        return eax | (model & 0xf) << 4 | (model >> 4) << 16 | stepping;
    }

    /** The display family of {@code eax}. */
    public static int family(int eax) {
        int base = eax >> 8 & 0xf;
        return base == 0xf ? base + (eax >> 20 & 0xff) : base;
    }

    /** The display model of {@code eax} (QEMU adds the extended model for every family). */
    public static int model(int eax) {
        return (eax >> 4 & 0xf) | (eax >> 16 & 0xf) << 4;
    }

    /** The stepping of {@code eax}. */
    public static int stepping(int eax) {
        return eax & 0xf;
    }
}
