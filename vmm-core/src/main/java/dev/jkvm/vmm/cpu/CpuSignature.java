package dev.jkvm.vmm.cpu;

/**
 * The CPUID.1:EAX processor signature: family, model and stepping with their extended fields.
 *
 * <pre>{@code
 * CpuSignature.encode(6, 44, 1);     // 0x000206c1
 * CpuSignature.family(0x00800f12);   // 23
 * }</pre>
 */
public final class CpuSignature {

    private CpuSignature() {
    }

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
