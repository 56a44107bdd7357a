package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Computes the CPUID table of one vCPU for {@code KVM_SET_CPUID2}, leaf by leaf as QEMU's
 * {@code cpu_x86_cpuid} answers and {@code kvm_x86_build_cpuid} collects: plain leaves that come
 * out all zero are left out (KVM answers zero for them anyway), leaves with sub-leaves carry
 * {@link #SIGNIFICANT_INDEX} and keep their terminating entry.
 *
 * <pre>{@code
 * CpuidBuilder b = new CpuidBuilder(cpu, topology, host);
 * List<CpuidEntry> forCpu3 = b.entriesFor(3);
 * }</pre>
 */
public final class CpuidBuilder {

    /** {@code KVM_CPUID_FLAG_SIGNIFCANT_INDEX}: the entry applies to one sub-leaf only. */
    public static final int SIGNIFICANT_INDEX = 1;

    /** The CPUID.1:EDX bits AMD repeats in CPUID.80000001H:EDX (QEMU's CPUID_EXT2_AMD_ALIASES). */
    public static final int AMD_ALIASES = 0x0183f3ff;

    /** KVM's signature leaf and its "KVMKVMKVM\0\0\0". */
    public static final int KVM_SIGNATURE_LEAF = 0x40000000;
    public static final int KVM_FEATURES_LEAF = 0x40000001;
    private static final int[] KVM_SIGNATURE = words("KVMKVMKVM\0\0\0");

    /** KVM_MAX_CPUID_ENTRIES: the most entries KVM_SET_CPUID2 takes. */
    public static final int MAX_ENTRIES = 256;
    /** Beyond these leaves jkvm (and every CPU model) has nothing: the walks stop there. */
    static final int LAST_BASIC_LEAF = 0xff;
    static final int LAST_EXTENDED_LEAF = 0x800000ff;

    private static final int XSAVE_LEGACY_AND_HEADER = 512 + 64;
    private static final int ESA_ALIGN64_AND_XFD = 0b110;
    private static final int PDCM = 1 << 15;

    private final GuestCpu cpu;
    private final Topology topology;
    private final HostCpuid host;

    public CpuidBuilder(GuestCpu cpu, Topology topology, HostCpuid host) {
        this.cpu = cpu;
        this.topology = topology;
        this.host = host;
    }

    /** The entries for vCPU {@code index} (0 .. maxCpus-1): its APIC ID is {@code topology.apicId(index)}. */
    public List<CpuidEntry> entriesFor(int index) {
        int apicId = topology.apicId(index);
        List<CpuidEntry> out = new ArrayList<>();
        basicLeaves(out, index, apicId);
        if (cpu.kvmLeaves()) {
            FeatureBits f = cpu.features();
            out.add(entry(KVM_SIGNATURE_LEAF, 0, 0, new int[] {KVM_FEATURES_LEAF, KVM_SIGNATURE[0], KVM_SIGNATURE[1],
                KVM_SIGNATURE[2]}));
            out.add(entry(KVM_FEATURES_LEAF, 0, 0,
                    new int[] {f.get(FeatureWord.KVM_EAX), 0, 0, f.get(FeatureWord.KVM_HINTS_EDX)}));
        }
        extendedLeaves(out, index, apicId);
        return List.copyOf(out);
    }

    private void basicLeaves(List<CpuidEntry> out, int index, int apicId) {
        // Leaves above the last one jkvm fills are all zero and never listed (the guest reads
        // zeros there): a level of 0xfffffffe costs 256 iterations, not four billion.
        int level = Integer.compareUnsigned(cpu.level(), LAST_BASIC_LEAF) > 0 ? LAST_BASIC_LEAF : cpu.level();
        for (int leaf = 0; Integer.compareUnsigned(leaf, level) <= 0; leaf++) {
            switch (leaf) {
                case 2 -> out.add(entry(2, 0, 0, leaf2()));
                case 4 -> {
                    for (int sub = 0; ; sub++) {
                        int[] r = leaf4(sub);
                        out.add(entry(4, sub, SIGNIFICANT_INDEX, r));
                        if (r[0] == 0) {
                            break;
                        }
                    }
                }
                case 7, 0x14, 0x1d, 0x1e -> {
                    int[] r0 = leaf(leaf, 0, index, apicId);
                    out.add(entry(leaf, 0, SIGNIFICANT_INDEX, r0));
                    for (int sub = 1; sub <= r0[0]; sub++) {
                        out.add(entry(leaf, sub, SIGNIFICANT_INDEX, leaf(leaf, sub, index, apicId)));
                    }
                }
                case 0xb -> topologyLeaf(out, 0xb, apicId);
                case 0x1f -> {
                    if (topology.dies() > 1) {
                        topologyLeaf(out, 0x1f, apicId);
                    }
                }
                case 0xd -> xsaveLeaf(out);
                case 0x12 -> {
                    for (int sub = 0; sub <= 2; sub++) {
                        out.add(entry(0x12, sub, SIGNIFICANT_INDEX, new int[4]));
                    }
                }
                default -> addIfNonZero(out, leaf, leaf(leaf, 0, index, apicId));
            }
            checkRoom(out, leaf);
        }
    }

    private void extendedLeaves(List<CpuidEntry> out, int index, int apicId) {
        int xlevel = cpu.xlevel();
        if (Integer.compareUnsigned(xlevel, 0x80000000) < 0) {
            return;
        }
        if (Integer.compareUnsigned(xlevel, LAST_EXTENDED_LEAF) > 0) {
            xlevel = LAST_EXTENDED_LEAF; // as above: nothing past it is ever non-zero
        }
        for (int leaf = 0x80000000; Integer.compareUnsigned(leaf, xlevel) <= 0; leaf++) {
            if (leaf == 0x8000001d) {
                for (int sub = 0; ; sub++) {
                    int[] r = leaf8000001d(sub);
                    out.add(entry(leaf, sub, SIGNIFICANT_INDEX, r));
                    if (r[0] == 0) {
                        break;
                    }
                }
            } else {
                addIfNonZero(out, leaf, leaf(leaf, 0, index, apicId));
            }
            checkRoom(out, leaf);
            if (leaf == 0xffffffff) {
                break;
            }
        }
    }

    /** One leaf's {EAX, EBX, ECX, EDX} for {@code index}/{@code apicId}. */
    private int[] leaf(int leaf, int sub, int index, int apicId) {
        FeatureBits f = cpu.features();
        int perPackage = topology.threadsPerPackage();
        return switch (leaf) {
            case 0 -> {
                int[] v = words(padded(cpu.vendor(), 12));
                yield new int[] {cpu.level(), v[0], v[2], v[1]};
            }
            case 1 -> {
                int ebx = apicId << 24 | 8 << 8; // CLFLUSH line size in quadwords
                if (perPackage > 1) {
                    ebx |= Math.min(perPackage, 0xff) << 16;
                }
                int ecx = f.get(FeatureWord.LEAF1_ECX);
                if (!cpu.pmu()) {
                    ecx &= ~PDCM;
                }
                yield new int[] {cpu.signature(), ebx, ecx, f.get(FeatureWord.LEAF1_EDX)};
            }
            case 5 -> new int[] {0, 0, 0b11, 0}; // MONITOR/MWAIT: extensions, interrupt break-event
            case 6 -> new int[] {f.get(FeatureWord.LEAF6_EAX), 0, 0, 0};
            case 7 -> switch (sub) {
                case 0 -> new int[] {cpu.level7(), f.get(FeatureWord.LEAF7_0_EBX), f.get(FeatureWord.LEAF7_0_ECX),
                    f.get(FeatureWord.LEAF7_0_EDX)};
                case 1 -> new int[] {f.get(FeatureWord.LEAF7_1_EAX), 0, 0, 0};
                default -> new int[4];
            };
            case 0xa -> cpu.pmu() ? hostLeaf(0xa, 0) : new int[4];
            case 0x80000000 -> {
                int[] v = words(padded(cpu.vendor(), 12));
                yield new int[] {cpu.xlevel(), v[0], v[2], v[1]};
            }
            case 0x80000001 -> new int[] {cpu.signature(), 0, f.get(FeatureWord.EXT1_ECX), f.get(FeatureWord.EXT1_EDX)};
            case 0x80000002, 0x80000003, 0x80000004 -> brand(leaf - 0x80000002);
            case 0x80000005 -> new int[] {0x01ff01ff, 0x01ff01ff, CacheEncoder.l1Amd(cpu.caches().amd().l1d()),
                CacheEncoder.l1Amd(cpu.caches().amd().l1i())};
            case 0x80000006 -> new int[] {0, 0x42004200, CacheEncoder.l2Amd(cpu.caches().amd().l2()),
                cpu.l3Cache() ? CacheEncoder.l3Amd(cpu.caches().amd().l3()) : 0};
            case 0x80000007 -> new int[] {0, f.get(FeatureWord.EXT7_EBX), 0, f.get(FeatureWord.EXT7_EDX)};
            case 0x80000008 -> {
                int eax = cpu.physBits();
                if (cpu.longMode()) {
                    eax |= cpu.virtBits() << 8 | cpu.guestPhysBits() << 16;
                }
                int ecx = perPackage > 1 ? topology.packageShift() << 12 | perPackage - 1 : 0;
                yield new int[] {eax, f.get(FeatureWord.EXT8_EBX), ecx, 0};
            }
            case 0x8000000a -> f.has(FeatureWord.EXT1_ECX, 2)
                    ? new int[] {1, 0x10, 0, f.get(FeatureWord.SVM_EDX)} : new int[4];
            case 0x8000001e -> new int[] {apicId, (topology.threads() - 1) << 8 | topology.coreOf(index) & 0xff,
                apicId >>> topology.packageShift() & 0xff, 0};
            default -> new int[4];
        };
    }

    /** Leaf 2: QEMU's descriptors; AMD models answer zeros (vendor_cpuid_only). */
    private int[] leaf2() {
        return cpu.isAmd() ? new int[4] : CacheEncoder.leaf2(cpu.caches().cpuid2(), cpu.l3Cache());
    }

    private int[] leaf4(int sub) {
        if (cpu.isAmd()) {
            return new int[4];
        }
        CacheModel.Levels c = cpu.caches().cpuid4();
        return switch (sub) {
            case 0 -> CacheEncoder.leaf4(c.l1d(), topology);
            case 1 -> CacheEncoder.leaf4(c.l1i(), topology);
            case 2 -> CacheEncoder.leaf4(c.l2(), topology);
            case 3 -> cpu.l3Cache() ? CacheEncoder.leaf4(c.l3(), topology) : new int[4];
            default -> new int[4];
        };
    }

    private int[] leaf8000001d(int sub) {
        CacheModel.Levels c = cpu.caches().amd();
        return switch (sub) {
            case 0 -> CacheEncoder.leaf8000001d(c.l1d(), topology);
            case 1 -> CacheEncoder.leaf8000001d(c.l1i(), topology);
            case 2 -> CacheEncoder.leaf8000001d(c.l2(), topology);
            case 3 -> CacheEncoder.leaf8000001d(c.l3(), topology);
            default -> new int[4];
        };
    }

    /**
     * Leaves 0xB and 0x1F: one sub-leaf per topology level (SMT, core, and for 0x1F die), then
     * the invalid level that ends the list. EAX is the APIC ID shift to the next level, EBX the
     * logical processors at that level, ECX the sub-leaf and level type, EDX the x2APIC ID.
     */
    private void topologyLeaf(List<CpuidEntry> out, int leaf, int apicId) {
        boolean withDies = leaf == 0x1f;
        int[][] levels = withDies
                ? new int[][] {
                    {topology.coreShift(), topology.threads(), 1},
                    {topology.dieShift(), topology.threads() * topology.cores(), 2},
                    {topology.packageShift(), topology.threadsPerPackage(), 5}}
                : new int[][] {
                    {topology.coreShift(), topology.threads(), 1},
                    {topology.packageShift(), topology.threadsPerPackage(), 2}};
        for (int sub = 0; sub <= levels.length; sub++) {
            int[] r = sub < levels.length
                    ? new int[] {levels[sub][0], levels[sub][1] & 0xffff, sub | levels[sub][2] << 8, apicId}
                    : new int[] {0, 0, sub, apicId};
            out.add(entry(leaf, sub, SIGNIFICANT_INDEX, r));
        }
    }

    /**
     * Leaf 0xD: sub-leaf 0 the XCR0 components and the area size, sub-leaf 1 the XSAVE
     * instructions and the compacted size, then one sub-leaf per component with the host's size
     * and offset. Nothing without XSAVE.
     */
    private void xsaveLeaf(List<CpuidEntry> out) {
        if (!cpu.features().has(FeatureWord.LEAF1_ECX, 26)) {
            return;
        }
        long xcr0 = cpu.xcr0();
        int standard = XSAVE_LEGACY_AND_HEADER;
        int compacted = XSAVE_LEGACY_AND_HEADER;
        for (int c = 2; c < 64; c++) {
            if ((xcr0 & 1L << c) != 0) {
                int[] area = hostLeaf(0xd, c);
                standard = Math.max(standard, area[1] + area[0]);
                compacted += area[0];
            }
        }
        out.add(entry(0xd, 0, SIGNIFICANT_INDEX, new int[] {(int) xcr0, standard, standard, (int) (xcr0 >>> 32)}));
        int xsaveFeatures = cpu.features().get(FeatureWord.XSAVE_1_EAX);
        if (xsaveFeatures != 0) {
            out.add(entry(0xd, 1, SIGNIFICANT_INDEX, new int[] {xsaveFeatures, compacted, 0, 0}));
        }
        for (int c = 2; c < 64; c++) {
            if ((xcr0 & 1L << c) != 0) {
                int[] area = hostLeaf(0xd, c);
                if (area[0] != 0) {
                    out.add(entry(0xd, c, SIGNIFICANT_INDEX,
                            new int[] {area[0], area[1], area[2] & ESA_ALIGN64_AND_XFD, 0}));
                }
            }
        }
    }

    private int[] brand(int part) {
        int[] w = words(padded(cpu.modelId(), 48));
        return new int[] {w[part * 4], w[part * 4 + 1], w[part * 4 + 2], w[part * 4 + 3]};
    }

    private int[] hostLeaf(int leaf, int sub) {
        return host.raw(leaf, sub).map(e -> new int[] {e.eax(), e.ebx(), e.ecx(), e.edx()}).orElse(new int[4]);
    }

    private static void checkRoom(List<CpuidEntry> out, int leaf) {
        if (out.size() > MAX_ENTRIES) {
            throw new CpuConfigException(String.format("cpuid_data is full, no space for cpuid(eax:0x%x)", leaf));
        }
    }

    private static void addIfNonZero(List<CpuidEntry> out, int leaf, int[] r) {
        if ((r[0] | r[1] | r[2] | r[3]) != 0) {
            out.add(entry(leaf, 0, 0, r));
        }
    }

    private static CpuidEntry entry(int leaf, int sub, int flags, int[] r) {
        return new CpuidEntry(leaf, sub, flags, r[0], r[1], r[2], r[3]);
    }

    private static String padded(String s, int length) {
        return s.length() >= length ? s.substring(0, length) : s + "\0".repeat(length - s.length());
    }

    /** Little-endian 32-bit words of {@code s} (ISO-8859-1), as CPUID returns strings. */
    static int[] words(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        int[] w = new int[(b.length + 3) / 4];
        for (int i = 0; i < b.length; i++) {
            w[i / 4] |= (b[i] & 0xff) << 8 * (i % 4);
        }
        return w;
    }
}
