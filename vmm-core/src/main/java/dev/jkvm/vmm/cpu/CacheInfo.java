package dev.jkvm.vmm.cpu;

/**
 * One cache level as CPUID describes it (leaves 2, 4, 0x80000005/6 and 0x8000001D), with QEMU's
 * {@code CPUCacheInfo} fields.
 *
 * <pre>{@code
 * CacheInfo l1d = CacheModel.LEGACY.cpuid4().l1d();
 * l1d.sizeBytes();   // 32768
 * }</pre>
 *
 * @param type data, instruction or unified
 * @param level 1..3
 * @param sizeBytes total size
 * @param lineSize bytes per line
 * @param associativity ways
 * @param sets number of sets (0 where only a leaf-2 descriptor is wanted)
 * @param partitions physical line partitions
 * @param linesPerTag lines per tag (AMD leaves)
 * @param selfInit self-initialising level
 * @param noInvdSharing WBINVD/INVD does not act on lower levels' sharers
 * @param inclusive inclusive of lower levels
 * @param complexIndexing complex (hashed) indexing
 * @param shareLevel which topology level shares one instance of the cache
 */
public record CacheInfo(Type type, int level, int sizeBytes, int lineSize, int associativity, int sets,
        int partitions, int linesPerTag, boolean selfInit, boolean noInvdSharing, boolean inclusive,
        boolean complexIndexing, ShareLevel shareLevel) {

    /** What the cache holds; {@link #code()} is the CPUID leaf-4 type field. */
    public enum Type {
        DATA(1), INSTRUCTION(2), UNIFIED(3);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    /** The topology level one instance of the cache serves. */
    public enum ShareLevel {
        CORE, DIE
    }

    static CacheInfo of(Type type, int level, int kib, int line, int ways, int sets, int linesPerTag,
            boolean selfInit, boolean noInvd, boolean inclusive, boolean complex, ShareLevel share) {
        return new CacheInfo(type, level, kib * 1024, line, ways, sets, 1, linesPerTag, selfInit, noInvd, inclusive,
                complex, share);
    }
}
