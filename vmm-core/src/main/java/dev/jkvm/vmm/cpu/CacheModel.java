package dev.jkvm.vmm.cpu;

import static dev.jkvm.vmm.cpu.CacheInfo.ShareLevel.CORE;
import static dev.jkvm.vmm.cpu.CacheInfo.ShareLevel.DIE;
import static dev.jkvm.vmm.cpu.CacheInfo.Type.DATA;
import static dev.jkvm.vmm.cpu.CacheInfo.Type.INSTRUCTION;
import static dev.jkvm.vmm.cpu.CacheInfo.Type.UNIFIED;

import java.util.Locale;

/**
 * The cache descriptions a CPU model reports. QEMU keeps three views because its historical
 * leaves disagree: leaf 2 descriptors, leaf 4 (Intel), and the AMD leaves 0x80000005/6/1D.
 * {@link #LEGACY} is what every model without its own cache data gets (all of QEMU's Intel
 * models); {@link #EPYC} is QEMU's {@code epyc_cache_info}.
 *
 * <pre>{@code
 * CacheModel.forName("epyc").amd().l3().sizeBytes();   // 8 MiB
 * }</pre>
 */
public enum CacheModel {

    /** QEMU's legacy_* caches (target/i386/cpu.c). */
    LEGACY(
            new Levels(
                    CacheInfo.of(DATA, 1, 32, 64, 8, 64, 0, true, true, false, false, CORE),
                    CacheInfo.of(INSTRUCTION, 1, 32, 64, 8, 64, 0, true, true, false, false, CORE),
                    CacheInfo.of(UNIFIED, 2, 2048, 64, 8, 0, 0, false, false, false, false, CORE),
                    legacyL3()),
            new Levels(
                    CacheInfo.of(DATA, 1, 32, 64, 8, 64, 0, true, true, false, false, CORE),
                    CacheInfo.of(INSTRUCTION, 1, 32, 64, 8, 64, 0, true, true, false, false, CORE),
                    CacheInfo.of(UNIFIED, 2, 4096, 64, 16, 4096, 0, true, true, false, false, CORE),
                    legacyL3()),
            new Levels(
                    CacheInfo.of(DATA, 1, 64, 64, 2, 512, 1, true, true, false, false, CORE),
                    CacheInfo.of(INSTRUCTION, 1, 64, 64, 2, 512, 1, true, true, false, false, CORE),
                    CacheInfo.of(UNIFIED, 2, 512, 64, 16, 512, 1, false, false, false, false, CORE),
                    legacyL3())),

    /** QEMU's epyc_cache_info, used for all three views (EPYC, Dhyana). */
    EPYC(epyc(), epyc(), epyc()),

    /** QEMU's epyc_rome_cache_info: a 32 KiB L1I and a 16 MiB L3. */
    EPYC_ROME(zen2(16), zen2(16), zen2(16)),

    /** QEMU's epyc_milan_cache_info: as Rome's with a 32 MiB L3. */
    EPYC_MILAN(zen2(32), zen2(32), zen2(32));

    /** The four cache levels of one view. */
    public record Levels(CacheInfo l1d, CacheInfo l1i, CacheInfo l2, CacheInfo l3) {
    }

    private final Levels cpuid2;
    private final Levels cpuid4;
    private final Levels amd;

    CacheModel(Levels cpuid2, Levels cpuid4, Levels amd) {
        this.cpuid2 = cpuid2;
        this.cpuid4 = cpuid4;
        this.amd = amd;
    }

    /** Caches described by leaf-2 descriptors. */
    public Levels cpuid2() {
        return cpuid2;
    }

    /** Caches described by leaf 4. */
    public Levels cpuid4() {
        return cpuid4;
    }

    /** Caches described by the AMD leaves 0x80000005, 0x80000006 and 0x8000001D. */
    public Levels amd() {
        return amd;
    }

    /** The model called {@code name} in a model file ({@code legacy}, {@code epyc}, {@code epyc-rome}, {@code epyc-milan}). */
    public static CacheModel forName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    private static CacheInfo legacyL3() {
        return CacheInfo.of(UNIFIED, 3, 16 * 1024, 64, 16, 16384, 1, true, false, true, true, DIE);
    }

    /** Rome and Milan (QEMU 7.2 data): 32 KiB 8-way L1D and L1I, 512 KiB L2, an L3 of {@code l3MiB}. */
    private static Levels zen2(int l3MiB) {
        return new Levels(
                CacheInfo.of(DATA, 1, 32, 64, 8, 64, 1, true, true, false, false, CORE),
                CacheInfo.of(INSTRUCTION, 1, 32, 64, 8, 64, 1, true, true, false, false, CORE),
                CacheInfo.of(UNIFIED, 2, 512, 64, 8, 1024, 1, false, false, false, false, CORE),
                CacheInfo.of(UNIFIED, 3, l3MiB * 1024, 64, 16, l3MiB * 1024, 1, true, false, true, true, DIE));
    }

    private static Levels epyc() {
        return new Levels(
                CacheInfo.of(DATA, 1, 32, 64, 8, 64, 1, true, true, false, false, CORE),
                CacheInfo.of(INSTRUCTION, 1, 64, 64, 4, 256, 1, true, true, false, false, CORE),
                CacheInfo.of(UNIFIED, 2, 512, 64, 8, 1024, 1, false, false, false, false, CORE),
                CacheInfo.of(UNIFIED, 3, 8 * 1024, 64, 16, 8192, 1, true, false, true, true, DIE));
    }
}
