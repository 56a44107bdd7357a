package dev.jkvm.vmm.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Settles a {@link GuestCpu} from a model, the {@code -cpu} settings, the topology and the host,
 * in QEMU's order: load the model (plus QEMU's KVM defaults), apply {@code feat=on|off}, then
 * {@code +feat}, then {@code -feat}; add HTT/CmpLegacy for SMP; raise the leaf limits for the
 * features asked for; then drop what the host lacks, one warning per bit (an error with
 * {@code enforce}).
 *
 * <pre>{@code
 * CpuResolver.Result r = CpuResolver.resolve(option, model, host, topology, false);
 * r.warnings().forEach(System.err::println);
 * }</pre>
 */
public final class CpuResolver {

    /** The outcome: the CPU, and QEMU-style warnings for what the host could not give. */
    public record Result(GuestCpu cpu, List<String> warnings) {
        public Result {
            warnings = List.copyOf(warnings);
        }
    }

    /** QEMU's FeatureWord order, which is the order of its warnings. */
    static final List<FeatureWord> WORDS = List.of(FeatureWord.LEAF1_EDX, FeatureWord.LEAF1_ECX,
            FeatureWord.LEAF7_0_EBX, FeatureWord.LEAF7_0_ECX, FeatureWord.LEAF7_0_EDX, FeatureWord.LEAF7_1_EAX,
            FeatureWord.EXT1_EDX, FeatureWord.EXT1_ECX, FeatureWord.EXT7_EBX, FeatureWord.EXT7_EDX,
            FeatureWord.EXT8_EBX, FeatureWord.KVM_EAX, FeatureWord.KVM_HINTS_EDX, FeatureWord.SVM_EDX,
            FeatureWord.XSAVE_1_EAX, FeatureWord.LEAF6_EAX);

    /** QEMU's kvm_default_props: switched on (resp. off) for every non-host model under KVM. */
    private static final List<String> KVM_DEFAULTS_ON = List.of("kvmclock", "kvm-nopiodelay", "kvm-asyncpf",
            "kvm-steal-time", "kvm-pv-eoi", "kvmclock-stable-bit", "x2apic");
    private static final List<String> KVM_DEFAULTS_OFF = List.of("kvm-msi-ext-dest-id", "acpi", "monitor", "svm");

    private static final int HT = 1 << 28;
    private static final int HYPERVISOR = 1 << 31;
    private static final int CMP_LEGACY = 1 << 1;
    private static final int TOPOEXT = 1 << 22;
    private static final int INVTSC = 1 << 8;
    private static final int OSXSAVE = 1 << 27;
    private static final int SVM = 1 << 2;
    private static final int LA57 = 1 << 16;

    private CpuResolver() {
    }

    /**
     * Resolves {@code option} for {@code model}.
     *
     * @param hostVendor report the host's vendor instead of the model's, as QEMU does for its
     *     built-in models under KVM (unless {@code vendor=} is given)
     * @throws CpuConfigException when {@code enforce} is set and the host lacks a feature
     */
    public static Result resolve(CpuOption option, CpuModel model, HostCpuid host, Topology topology,
            boolean hostVendor) {
        CpuFeatureTable table = CpuFeatureTable.standard();
        FeatureBits f;
        String vendor;
        int signature;
        String modelId;
        int minLevel;
        int minXlevel;
        if (model.kind().fromHost()) {
            f = FeatureBits.EMPTY;
            for (FeatureWord w : WORDS) {
                int unmigratable = option.migratable() && w.equals(FeatureWord.EXT7_EDX) ? INVTSC : 0;
                f = f.with(w, host.word(w) & table.qemuMask(w) & ~notAutomatic(w) & ~unmigratable);
            }
            vendor = host.vendor();
            signature = host.signature();
            modelId = host.brand();
            minLevel = host.maxLevel();
            minXlevel = host.maxExtendedLevel();
        } else {
            f = model.features().plus(FeatureWord.LEAF1_ECX, HYPERVISOR);
            for (String name : KVM_DEFAULTS_ON) {
                f = set(table, f, name, !name.equals("x2apic") || host.inKernelIrqchip());
            }
            for (String name : KVM_DEFAULTS_OFF) {
                f = set(table, f, name, false);
            }
            vendor = hostVendor && !model.vendorFixed() && model.kind() == CpuModel.Kind.BUILTIN
                    && host.vendor().length() == 12 ? host.vendor() : model.vendor();
            signature = model.signature();
            modelId = model.modelId();
            minLevel = model.level();
            minXlevel = model.xlevel();
        }

        for (CpuOption.Assignment a : option.assignments()) {
            f = set(table, f, a.feature(), a.on());
        }
        for (String name : option.plus()) {
            f = set(table, f, name, true);
        }
        for (String name : option.minus()) {
            f = set(table, f, name, false);
        }
        vendor = option.vendor().orElse(vendor);
        modelId = option.modelId().orElse(modelId);
        signature = CpuSignature.encode(option.family().orElse(CpuSignature.family(signature)),
                option.modelNumber().orElse(CpuSignature.model(signature)),
                option.stepping().orElse(CpuSignature.stepping(signature)));
        if (!option.kvm()) {
            f = f.with(FeatureWord.KVM_EAX, 0).with(FeatureWord.KVM_HINTS_EDX, 0);
        }
        boolean intel = vendor.equals(CpuModel.INTEL);
        if (topology.threadsPerPackage() > 1) {
            f = f.plus(FeatureWord.LEAF1_EDX, HT);
            // Linux drops the thread information when CmpLegacy is set, so Intel never gets it.
            // QEMU sets it whenever the vendor is not Intel; we add it only where KVM has it,
            // because here the vendor may differ from the host's and it is not the user's request.
            if (!intel && (host.word(FeatureWord.EXT1_ECX) & CMP_LEGACY) != 0) {
                f = f.plus(FeatureWord.EXT1_ECX, CMP_LEGACY);
            }
        }

        int level = option.level().orElse(raisedLevel(minLevel, f, intel, topology));
        int level7 = f.get(FeatureWord.LEAF7_1_EAX) != 0 ? 1 : 0;
        int xlevel = option.xlevel().orElse(raisedXlevel(minXlevel, f));

        List<String> warnings = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (FeatureWord w : WORDS) {
            int requested = f.get(w);
            int unavailable = requested & ~host.word(w);
            for (int bit = 0; bit < 32; bit++) {
                if ((unavailable & 1 << bit) != 0) {
                    String what = table.named(w, bit).map(CpuFeature::describe)
                            .orElse(w.description() + " [bit " + bit + "]");
                    missing.add(what);
                    warnings.add("warning: host doesn't support requested feature: " + what);
                }
            }
            f = f.with(w, requested & ~unavailable);
        }
        if (vendor.equals(CpuModel.AMD) && !f.has(FeatureWord.EXT1_ECX, 22) && topology.threads() > 1) {
            warnings.add("warning: This family of AMD CPU doesn't support hyperthreading(" + topology.threads()
                    + "). Please configure -smp options properly or try enabling topoext feature.");
        }
        if (option.enforce() && !missing.isEmpty()) {
            throw new CpuConfigException("Host doesn't support requested features: " + String.join(", ", missing));
        }

        if (vendor.equals(CpuModel.AMD)) {
            // AMD repeats most of CPUID.1:EDX in CPUID.80000001H:EDX.
            f = f.with(FeatureWord.EXT1_EDX, f.get(FeatureWord.EXT1_EDX) & ~CpuidBuilder.AMD_ALIASES
                    | f.get(FeatureWord.LEAF1_EDX) & CpuidBuilder.AMD_ALIASES);
        }
        f = f.minus(FeatureWord.LEAF1_ECX, OSXSAVE);

        long xcr0 = xsaveComponents(f) & host.xcr0();
        boolean longMode = f.has(FeatureWord.EXT1_EDX, 29);
        int hostAddress = host.register(0x80000008, 0, Register.EAX);
        int physBits;
        int virtBits = 0;
        int guestPhysBits = 0;
        if (longMode) {
            physBits = (hostAddress & 0xff) != 0 ? hostAddress & 0xff : 40;
            virtBits = (f.get(FeatureWord.LEAF7_0_ECX) & LA57) != 0 ? 57 : 48;
            guestPhysBits = Math.min(hostAddress >> 16 & 0xff, physBits);
        } else {
            physBits = f.has(FeatureWord.LEAF1_EDX, 17) || f.has(FeatureWord.LEAF1_EDX, 6) ? 36 : 32;
        }
        boolean pmu = option.pmu().orElse(model.kind().fromHost());
        GuestCpu cpu = new GuestCpu(model.name(), vendor, signature, level, level7, xlevel, modelId, f, xcr0,
                model.caches(), option.l3Cache(), option.kvm(), pmu, physBits, virtBits, guestPhysBits);
        return new Result(cpu, warnings);
    }

    /** Bits {@code -cpu host} leaves for the user to ask for (QEMU's no_autoenable_flags). */
    private static int notAutomatic(FeatureWord w) {
        if (w.equals(FeatureWord.LEAF1_EDX)) {
            return HT;
        } else if (w.equals(FeatureWord.EXT1_ECX)) {
            return TOPOEXT;
        } else if (w.equals(FeatureWord.KVM_HINTS_EDX)) {
            return ~0;
        }
        return 0;
    }

    private static FeatureBits set(CpuFeatureTable table, FeatureBits f, String name, boolean on) {
        for (CpuFeature feature : table.lookup(name)) {
            if (feature.qemuNamed()) {
                f = f.set(feature, on);
            }
        }
        return f;
    }

    /** QEMU's x86_cpu_adjust_feat_level with full_cpuid_auto_level, for the basic range. */
    private static int raisedLevel(int level, FeatureBits f, boolean intel, Topology topology) {
        if (f.get(FeatureWord.LEAF1_EDX) != 0 || f.get(FeatureWord.LEAF1_ECX) != 0) {
            level = Math.max(level, 1);
        }
        if (f.get(FeatureWord.LEAF6_EAX) != 0) {
            level = Math.max(level, 6);
        }
        if (f.get(FeatureWord.LEAF7_0_EBX) != 0 || f.get(FeatureWord.LEAF7_0_ECX) != 0
                || f.get(FeatureWord.LEAF7_1_EAX) != 0) {
            level = Math.max(level, 7);
        }
        if (f.get(FeatureWord.XSAVE_1_EAX) != 0) {
            level = Math.max(level, 0xd);
        }
        if (intel && topology.dies() > 1) {
            level = Math.max(level, 0x1f); // dies are only described by leaf 0x1F
        }
        return level;
    }

    /** The same for the extended range. */
    private static int raisedXlevel(int xlevel, FeatureBits f) {
        if (f.get(FeatureWord.EXT1_EDX) != 0 || f.get(FeatureWord.EXT1_ECX) != 0) {
            xlevel = Integer.compareUnsigned(xlevel, 0x80000001) < 0 ? 0x80000001 : xlevel;
        }
        if (f.get(FeatureWord.EXT7_EDX) != 0) {
            xlevel = Integer.compareUnsigned(xlevel, 0x80000007) < 0 ? 0x80000007 : xlevel;
        }
        if (f.get(FeatureWord.EXT8_EBX) != 0) {
            xlevel = Integer.compareUnsigned(xlevel, 0x80000008) < 0 ? 0x80000008 : xlevel;
        }
        if (f.get(FeatureWord.SVM_EDX) != 0 || (f.get(FeatureWord.EXT1_ECX) & SVM) != 0) {
            xlevel = Integer.compareUnsigned(xlevel, 0x8000000a) < 0 ? 0x8000000a : xlevel;
        }
        return xlevel;
    }

    /** The XSAVE components the features call for (QEMU's x86_ext_save_areas). */
    static long xsaveComponents(FeatureBits f) {
        if (!f.has(FeatureWord.LEAF1_ECX, 26)) {
            return 0;
        }
        long mask = 0b11; // x87 and SSE state come with XSAVE
        if (f.has(FeatureWord.LEAF1_ECX, 28)) {
            mask |= 1L << 2; // AVX: YMM_Hi128
        }
        if (f.has(FeatureWord.LEAF7_0_EBX, 14)) {
            mask |= 1L << 3 | 1L << 4; // MPX: BNDREGS, BNDCSR
        }
        if (f.has(FeatureWord.LEAF7_0_EBX, 16)) {
            mask |= 1L << 5 | 1L << 6 | 1L << 7; // AVX-512: opmask, ZMM_Hi256, Hi16_ZMM
        }
        if (f.has(FeatureWord.LEAF7_0_ECX, 3)) {
            mask |= 1L << 9; // PKU: PKRU
        }
        if (f.has(FeatureWord.LEAF7_0_EDX, 24)) {
            mask |= 1L << 17 | 1L << 18; // AMX: XTILECFG, XTILEDATA
        }
        return mask;
    }
}
