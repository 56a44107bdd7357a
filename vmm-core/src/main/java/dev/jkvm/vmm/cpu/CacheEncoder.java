package dev.jkvm.vmm.cpu;

/**
 * Packs {@link CacheInfo} into the CPUID cache leaves, bit for bit as QEMU does
 * ({@code encode_cache_cpuid4}, {@code encode_cache_cpuid80000005/6/1d}, {@code cpuid2_cache_descriptor}).
 *
 * <pre>{@code
 * int[] r = CacheEncoder.leaf4(CacheModel.LEGACY.cpuid4().l1d(), topology);   // {eax, ebx, ecx, edx}
 * }</pre>
 */
public final class CacheEncoder {

    /** Leaf-2 byte meaning "no descriptor, use leaf 4". */
    public static final int NO_DESCRIPTOR = 0xff;

    /**
     * The Intel SDM leaf-2 descriptors QEMU knows: {descriptor, level, type code, size KiB*2,
     * ways, line}. Sizes are in half KiB so 1.5 MiB fits an int.
     */
    private static final int[][] DESCRIPTORS = {
        {0x06, 1, 2, 16, 4, 32}, {0x08, 1, 2, 32, 4, 32}, {0x09, 1, 2, 64, 4, 64},
        {0x0A, 1, 1, 16, 2, 32}, {0x0C, 1, 1, 32, 4, 32}, {0x0D, 1, 1, 32, 4, 64},
        {0x0E, 1, 1, 48, 6, 64}, {0x1D, 2, 3, 256, 2, 64}, {0x21, 2, 3, 512, 8, 64},
        {0x24, 2, 3, 2048, 16, 64}, {0x2C, 1, 1, 64, 8, 64}, {0x30, 1, 2, 64, 8, 64},
        {0x41, 2, 3, 256, 4, 32}, {0x42, 2, 3, 512, 4, 32}, {0x43, 2, 3, 1024, 4, 32},
        {0x44, 2, 3, 2048, 4, 32}, {0x45, 2, 3, 4096, 4, 32}, {0x46, 3, 3, 8192, 4, 64},
        {0x47, 3, 3, 16384, 8, 64}, {0x48, 2, 3, 6144, 12, 64}, {0x4A, 3, 3, 12288, 12, 64},
        {0x4B, 3, 3, 16384, 16, 64}, {0x4C, 3, 3, 24576, 12, 64}, {0x4D, 3, 3, 32768, 16, 64},
        {0x4E, 2, 3, 12288, 24, 64}, {0x60, 1, 1, 32, 8, 64}, {0x66, 1, 1, 16, 4, 64},
        {0x67, 1, 1, 32, 4, 64}, {0x68, 1, 1, 64, 4, 64}, {0x78, 2, 3, 2048, 4, 64},
        {0x7D, 2, 3, 4096, 8, 64}, {0x7F, 2, 3, 1024, 2, 64}, {0x80, 2, 3, 1024, 8, 64},
        {0x82, 2, 3, 512, 8, 32}, {0x83, 2, 3, 1024, 8, 32}, {0x84, 2, 3, 2048, 8, 32},
        {0x85, 2, 3, 4096, 8, 32}, {0x86, 2, 3, 1024, 4, 64}, {0x87, 2, 3, 2048, 8, 64},
        {0xD0, 3, 3, 1024, 4, 64}, {0xD1, 3, 3, 2048, 4, 64}, {0xD2, 3, 3, 4096, 4, 64},
        {0xD6, 3, 3, 2048, 8, 64}, {0xD7, 3, 3, 4096, 8, 64}, {0xD8, 3, 3, 8192, 8, 64},
        {0xDC, 3, 3, 3072, 12, 64}, {0xDD, 3, 3, 6144, 12, 64}, {0xDE, 3, 3, 12288, 12, 64},
        {0xE2, 3, 3, 4096, 16, 64}, {0xE3, 3, 3, 8192, 16, 64}, {0xE4, 3, 3, 16384, 16, 64},
        {0xEA, 3, 3, 24576, 24, 64}, {0xEB, 3, 3, 36864, 24, 64}, {0xEC, 3, 3, 49152, 24, 64},
    };

    private CacheEncoder() {
    }

    /** The leaf-2 descriptor byte for {@code cache}, or {@link #NO_DESCRIPTOR}. */
    public static int descriptor(CacheInfo cache) {
        for (int[] d : DESCRIPTORS) {
            if (d[1] == cache.level() && d[2] == cache.type().code() && (long) d[3] * 512 == cache.sizeBytes()
                    && d[4] == cache.associativity() && d[5] == cache.lineSize()) {
                return d[0];
            }
        }
        return NO_DESCRIPTOR;
    }

    /** Leaf 2: one call needed, L3 in ECX (when {@code withL3}), L1D/L1I/L2 in EDX. */
    public static int[] leaf2(CacheModel.Levels caches, boolean withL3) {
        int edx = descriptor(caches.l1d()) << 16 | descriptor(caches.l1i()) << 8 | descriptor(caches.l2());
        return new int[] {1, 0, withL3 ? descriptor(caches.l3()) : 0, edx};
    }

    /**
     * Leaf 4 for one cache: EAX[31:26] = core IDs per package - 1 and EAX[25:14] = logical
     * processor IDs sharing the cache - 1, both from the APIC ID field widths as QEMU computes them.
     */
    public static int[] leaf4(CacheInfo cache, Topology topology) {
        int maxCoreIds = (1 << (topology.packageShift() - topology.coreShift())) - 1;
        int eax = typeLevel(cache) | maxCoreIds << 26 | maxThreadIdsSharing(cache, topology) << 14;
        return new int[] {eax, geometry(cache), cache.sets() - 1, flags(cache)};
    }

    /** Leaf 0x8000001D for one cache (AMD's leaf 4, without the core count). */
    public static int[] leaf8000001d(CacheInfo cache, Topology topology) {
        int eax = typeLevel(cache) | maxThreadIdsSharing(cache, topology) << 14;
        return new int[] {eax, geometry(cache), cache.sets() - 1, flags(cache)};
    }

    /** Leaf 0x80000005 ECX/EDX: KiB, ways, lines per tag, line size. */
    public static int l1Amd(CacheInfo cache) {
        return cache.sizeBytes() / 1024 << 24 | cache.associativity() << 16 | cache.linesPerTag() << 8
                | cache.lineSize();
    }

    /** Leaf 0x80000006 ECX: the L2. */
    public static int l2Amd(CacheInfo cache) {
        return cache.sizeBytes() / 1024 << 16 | amdAssociativity(cache.associativity()) << 12
                | cache.linesPerTag() << 8 | cache.lineSize();
    }

    /** Leaf 0x80000006 EDX: the L3, in 512 KiB units. */
    public static int l3Amd(CacheInfo cache) {
        return cache.sizeBytes() / (512 * 1024) << 18 | amdAssociativity(cache.associativity()) << 12
                | cache.linesPerTag() << 8 | cache.lineSize();
    }

    /** AMD's 4-bit associativity code (leaf 0x80000006). */
    public static int amdAssociativity(int ways) {
        return switch (ways) {
            case 0, 1 -> ways;
            case 2 -> 0x2;
            case 4 -> 0x4;
            case 8 -> 0x6;
            case 16 -> 0x8;
            case 32 -> 0xA;
            case 48 -> 0xB;
            case 64 -> 0xC;
            case 96 -> 0xD;
            case 128 -> 0xE;
            case 0xff -> 0xF;
            default -> 0;
        };
    }

    private static int typeLevel(CacheInfo cache) {
        return cache.type().code() | cache.level() << 5 | (cache.selfInit() ? 1 << 8 : 0);
    }

    private static int maxThreadIdsSharing(CacheInfo cache, Topology topology) {
        int shift = switch (cache.shareLevel()) {
            case CORE -> topology.coreShift();
            case DIE -> topology.dieShift();
        };
        return (1 << shift) - 1;
    }

    private static int geometry(CacheInfo cache) {
        return cache.lineSize() - 1 | (cache.partitions() - 1) << 12 | (cache.associativity() - 1) << 22;
    }

    private static int flags(CacheInfo cache) {
        return (cache.noInvdSharing() ? 1 : 0) | (cache.inclusive() ? 2 : 0) | (cache.complexIndexing() ? 4 : 0);
    }
}
