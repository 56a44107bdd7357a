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
        boolean fromHost = model.kind().fromHost();
        String vendor = option.vendor().orElse(fromHost ? host.vendor()
                : hostVendor && !model.vendorFixed() && model.kind() == CpuModel.Kind.BUILTIN
                        && host.vendor().length() == 12 ? host.vendor() : model.vendor());
        String modelId = option.modelId().orElse(fromHost ? host.brand() : model.modelId());
        int baseSignature = fromHost ? host.signature() : model.signature();
        int signature = CpuSignature.encode(option.family().orElse(CpuSignature.family(baseSignature)),
                option.modelNumber().orElse(CpuSignature.model(baseSignature)),
                option.stepping().orElse(CpuSignature.stepping(baseSignature)));
        boolean intel = vendor.equals(CpuModel.INTEL);

        FeatureBits f = settings(baseFeatures(model, host, option, table), option, table);
        if (topology.threadsPerPackage() > 1) {
            f = f.plus(FeatureWord.LEAF1_EDX, HT);
            // Linux drops the thread information when CmpLegacy is set, so Intel never gets it.
            // QEMU sets it whenever the vendor is not Intel; we add it only where KVM has it,
            // because here the vendor may differ from the host's and it is not the user's request.
            if (!intel && (host.word(FeatureWord.EXT1_ECX) & CMP_LEGACY) != 0) {
                f = f.plus(FeatureWord.EXT1_ECX, CMP_LEGACY);
            }
        }

        // The limits follow what was asked for, before the host's filter (as in QEMU). QEMU's
        // properties hold UINT32_MAX for "not set": level=0xffffffff is the automatic level there.
        int level = option.level().isPresent() && option.level().getAsInt() != AUTO_LEVEL ? option.level().getAsInt()
                : raisedLevel(fromHost ? host.maxLevel() : model.level(), f, intel, topology);
        int level7 = f.get(FeatureWord.LEAF7_1_EAX) != 0 ? 1 : 0;
        int xlevel = option.xlevel().isPresent() && option.xlevel().getAsInt() != AUTO_LEVEL ? option.xlevel().getAsInt()
                : raisedXlevel(fromHost ? host.maxExtendedLevel() : model.xlevel(), f);

        List<String> warnings = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        f = filter(f, host, table, missing);
        missing.forEach(what -> warnings.add("warning: host doesn't support requested feature: " + what));
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
        // OSXSAVE mirrors the guest's CR4.OSXSAVE, which KVM keeps up to date itself.
        f = f.minus(FeatureWord.LEAF1_ECX, OSXSAVE);

        int[] address = addressSizes(f, host, option, fromHost, warnings);
        boolean pmu = option.pmu().orElse(fromHost);
        GuestCpu cpu = new GuestCpu(model.name(), vendor, signature, level, level7, xlevel, modelId, f,
                xsaveComponents(f) & host.xcr0(), model.caches(), option.l3Cache(), option.kvm(), pmu, address[0],
                address[1], address[2]);
        return new Result(cpu, warnings);
    }

    /**
     * The features before the user's settings: for host/max every named bit KVM offers (less
     * those QEMU never switches on by itself); for other models their own bits, the hypervisor
     * bit and QEMU's KVM defaults.
     */
    private static FeatureBits baseFeatures(CpuModel model, HostCpuid host, CpuOption option, CpuFeatureTable table) {
        FeatureBits f = FeatureBits.EMPTY;
        if (model.kind().fromHost()) {
            for (FeatureWord w : WORDS) {
                int unmigratable = option.migratable() && w.equals(FeatureWord.EXT7_EDX) ? INVTSC : 0;
                f = f.with(w, host.word(w) & table.qemuMask(w) & ~notAutomatic(w) & ~unmigratable);
            }
            return f;
        }
        f = model.features().plus(FeatureWord.LEAF1_ECX, HYPERVISOR);
        for (String name : KVM_DEFAULTS_ON) {
            f = set(table, f, name, !name.equals("x2apic") || host.inKernelIrqchip());
        }
        for (String name : KVM_DEFAULTS_OFF) {
            f = set(table, f, name, false);
        }
        return f;
    }

    /** {@code feat=on|off} in order, then {@code +feat}, then {@code -feat}; {@code kvm=off} last. */
    private static FeatureBits settings(FeatureBits f, CpuOption option, CpuFeatureTable table) {
        for (CpuOption.Assignment a : option.assignments()) {
            f = set(table, f, a.feature(), a.on());
        }
        for (String name : option.plus()) {
            f = set(table, f, name, true);
        }
        for (String name : option.minus()) {
            f = set(table, f, name, false);
        }
        if (!option.kvm()) {
            f = f.with(FeatureWord.KVM_EAX, 0).with(FeatureWord.KVM_HINTS_EDX, 0);
        }
        return f;
    }

    /** {@code f} without what the host lacks; each missing bit described in {@code missing}, in QEMU's order. */
    private static FeatureBits filter(FeatureBits f, HostCpuid host, CpuFeatureTable table, List<String> missing) {
        for (FeatureWord w : WORDS) {
            int requested = f.get(w);
            int unavailable = requested & ~host.word(w);
            for (int bit = 0; bit < 32; bit++) {
                if ((unavailable & 1 << bit) != 0) {
                    int b = bit;
                    missing.add(table.named(w, bit).map(CpuFeature::describe)
                            .orElseGet(() -> w.description() + " [bit " + b + "]"));
                }
            }
            f = f.with(w, requested & ~unavailable);
        }
        return f;
    }

    /** QEMU's TCG_PHYS_ADDR_BITS: a 64-bit guest's MAXPHYADDR unless phys-bits or host-phys-bits says otherwise. */
    static final int DEFAULT_PHYS_BITS = 40;
    /** QEMU's TARGET_PHYS_ADDR_SPACE_BITS: the most phys-bits may be. */
    static final int MAX_PHYS_BITS = 52;

    /**
     * {physical, linear, guest-physical} address bits, as QEMU 7.2 settles phys-bits under KVM: a
     * 64-bit CPU gets {@code phys-bits=N}, or with {@code host-phys-bits} (the default of host
     * and max) the host's bits capped at {@code host-phys-bits-limit}, or else 40; a {@code
     * phys-bits} other than the host's is warned about (the guest may then use addresses the
     * host cannot back). A 32-bit CPU gets 36 with PAE or PSE36, else 32, and refuses phys-bits.
     */
    private static int[] addressSizes(FeatureBits f, HostCpuid host, CpuOption option, boolean fromHost,
            List<String> warnings) {
        if (!f.has(FeatureWord.EXT1_EDX, 29)) {
            if (option.physBits().isPresent() && option.physBits().getAsInt() != 0) {
                throw new CpuConfigException("phys-bits is not user-configurable in 32 bit");
            }
            return new int[] {f.has(FeatureWord.LEAF1_EDX, 17) || f.has(FeatureWord.LEAF1_EDX, 6) ? 36 : 32, 0, 0};
        }
        int hostAddress = host.register(0x80000008, 0, Register.EAX);
        int hostPhys = (hostAddress & 0xff) != 0 ? hostAddress & 0xff : DEFAULT_PHYS_BITS;
        int phys = option.physBits().orElse(0);
        if (phys != 0 && phys != hostPhys) {
            warnings.add("warning: Host physical bits (" + hostPhys + ") does not match phys-bits property (" + phys
                    + ")");
        }
        if (option.hostPhysBits().orElse(fromHost)) {
            phys = hostPhys;
            if (option.hostPhysBitsLimit() != 0 && phys > option.hostPhysBitsLimit()) {
                phys = option.hostPhysBitsLimit();
            }
        }
        if (phys == 0) {
            phys = DEFAULT_PHYS_BITS;
        }
        if (phys < 32 || phys > MAX_PHYS_BITS) {
            throw new CpuConfigException("phys-bits should be between 32 and " + MAX_PHYS_BITS + "  (but is " + phys
                    + ")");
        }
        int linear = (f.get(FeatureWord.LEAF7_0_ECX) & LA57) != 0 ? 57 : 48;
        // Only host and max pass KVM's guest-physical width (QEMU 7.2 sets none).
        int guestPhys = fromHost ? Math.min(hostAddress >> 16 & 0xff, phys) : 0;
        return new int[] {phys, linear, guestPhys};
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

    /** What QEMU's level/xlevel properties hold when nobody set them (UINT32_MAX). */
    static final int AUTO_LEVEL = 0xffffffff;

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
