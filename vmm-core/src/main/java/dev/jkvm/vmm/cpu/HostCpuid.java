package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What KVM can give a guest on this host ({@code KVM_GET_SUPPORTED_CPUID}), read the way QEMU's
 * {@code kvm_arch_get_supported_cpuid} reads it: with the same fix-ups for bits KVM does not
 * report but a VMM may set (the hypervisor bit, HTT, ARAT, TOPOEXT, TSC deadline with an
 * in-kernel irqchip, the AMD copies of CPUID.1:EDX...).
 *
 * <pre>{@code
 * HostCpuid host = HostCpuid.of(kvm.supportedCpuid());
 * host.word(FeatureWord.LEAF1_ECX);   // what -cpu may ask for in CPUID.1:ECX
 * }</pre>
 */
public final class HostCpuid {

    private static final int CPUID_1_EDX_FIXUPS = 1 << 7 | 1 << 12 | 1 << 14 | 1 << 16 | 1 << 28; // mce mtrr mca pat ht
    private static final int HYPERVISOR = 1 << 31;
    private static final int TSC_DEADLINE = 1 << 24;
    private static final int X2APIC = 1 << 21;
    private static final int ARAT = 1 << 2;
    private static final int TOPOEXT = 1 << 22;
    private static final int KVM_PV_UNHALT = 1 << 7;
    private static final int KVM_HINTS_REALTIME = 1;

    private final List<CpuidEntry> entries;
    private final Map<Long, CpuidEntry> byLeaf;
    private final boolean inKernelIrqchip;
    private final String fallbackBrand;

    private HostCpuid(List<CpuidEntry> entries, boolean inKernelIrqchip) {
        this(entries, inKernelIrqchip, "");
    }

    private HostCpuid(List<CpuidEntry> entries, boolean inKernelIrqchip, String fallbackBrand) {
        this.entries = List.copyOf(entries);
        this.inKernelIrqchip = inKernelIrqchip;
        this.fallbackBrand = fallbackBrand;
        Map<Long, CpuidEntry> map = new HashMap<>();
        for (CpuidEntry e : this.entries) {
            map.putIfAbsent(key(e.function(), e.index()), e);
        }
        this.byLeaf = Map.copyOf(map);
    }

    /**
     * The supported list of a VM with the in-kernel irqchip (KVM_CREATE_IRQCHIP), which is what
     * makes x2APIC, TSC deadline and PV unhalt usable; KVM has had KVM_CAP_TSC_DEADLINE_TIMER
     * since Linux 3.2.
     */
    public static HostCpuid of(List<CpuidEntry> supported) {
        return new HostCpuid(supported, true);
    }

    /** As {@link #of(List)}, saying whether the VM has an in-kernel irqchip. */
    public static HostCpuid of(List<CpuidEntry> supported, boolean inKernelIrqchip) {
        return new HostCpuid(supported, inKernelIrqchip);
    }

    /**
     * The same host with {@code brand} as its brand string where KVM lists no brand leaves (kvm_pvm
     * does not; QEMU reads the host's with the CPUID instruction, which Java cannot execute).
     */
    public HostCpuid withBrand(String brand) {
        return new HostCpuid(entries, inKernelIrqchip, brand);
    }

    /** Whether the VM has an in-kernel irqchip (what x2APIC, TSC deadline and PV unhalt need). */
    public boolean inKernelIrqchip() {
        return inKernelIrqchip;
    }

    /** The list as KVM returned it. */
    public List<CpuidEntry> entries() {
        return entries;
    }

    /** KVM's raw entry for {@code leaf}.{@code subleaf}, if it listed one. */
    public Optional<CpuidEntry> raw(int leaf, int subleaf) {
        return Optional.ofNullable(byLeaf.get(key(leaf, subleaf)));
    }

    /** One register of one leaf, with QEMU's fix-ups applied; 0 when KVM lists no such leaf. */
    public int register(int leaf, int subleaf, Register register) {
        int value = raw(leaf, subleaf).map(register::of).orElse(0);
        if (leaf == 1 && register == Register.EDX) {
            // KVM before 2.6.30 misreported MTRR/PAT/MCE/MCA; HTT is QEMU's to set for SMP.
            value |= CPUID_1_EDX_FIXUPS;
        } else if (leaf == 1 && register == Register.ECX) {
            value |= HYPERVISOR;
            if (inKernelIrqchip) {
                value |= TSC_DEADLINE;
            } else {
                value &= ~X2APIC;
            }
        } else if (leaf == 6 && register == Register.EAX) {
            value |= ARAT; // the emulated APIC timer is always running
        } else if (leaf == 0x80000001 && register == Register.ECX) {
            value |= TOPOEXT; // safe: leaves 0x8000001D/E are QEMU's own data
        } else if (leaf == 0x80000001 && register == Register.EDX) {
            // Intel hosts report leaf 0x80000001 the Intel way; add AMD's copies of leaf 1.
            value |= register(1, 0, Register.EDX) & CpuidBuilder.AMD_ALIASES;
        } else if (leaf == 0x40000001 && register == Register.EAX && !inKernelIrqchip) {
            value &= ~KVM_PV_UNHALT;
        } else if (leaf == 0x40000001 && register == Register.EDX) {
            value |= KVM_HINTS_REALTIME;
        }
        return value;
    }

    /** The bits of {@code word} the host supports. */
    public int word(FeatureWord word) {
        return register(word.leaf(), Math.max(word.subleaf(), 0), word.register());
    }

    /** The XSAVE components (XCR0 bits) KVM supports. */
    public long xcr0() {
        return (raw(0xd, 0).map(CpuidEntry::eax).orElse(0) & 0xffffffffL)
                | (long) raw(0xd, 0).map(CpuidEntry::edx).orElse(0) << 32;
    }

    /** The host's vendor string (leaf 0). */
    public String vendor() {
        return raw(0, 0).map(e -> ascii(e.ebx(), e.edx(), e.ecx())).orElse("");
    }

    /** The host's CPUID.1:EAX signature. */
    public int signature() {
        return raw(1, 0).map(CpuidEntry::eax).orElse(0);
    }

    /** The host's brand string (leaves 0x80000002..4), trailing NULs dropped. */
    public String brand() {
        StringBuilder s = new StringBuilder();
        for (int leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
            raw(leaf, 0).ifPresent(e -> s.append(ascii(e.eax(), e.ebx(), e.ecx(), e.edx())));
        }
        int end = s.indexOf("\0");
        String brand = (end < 0 ? s.toString() : s.substring(0, end)).strip();
        return brand.isEmpty() ? fallbackBrand : brand;
    }

    /** The largest basic leaf KVM lists. */
    public int maxLevel() {
        return raw(0, 0).map(CpuidEntry::eax).orElse(1);
    }

    /** The largest extended leaf KVM lists (0 when none). */
    public int maxExtendedLevel() {
        return raw(0x80000000, 0).map(CpuidEntry::eax).orElse(0);
    }

    static String ascii(int... words) {
        ByteBuffer b = ByteBuffer.allocate(4 * words.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int w : words) {
            b.putInt(w);
        }
        return new String(b.array(), StandardCharsets.ISO_8859_1);
    }

    private static long key(int leaf, int subleaf) {
        return (long) leaf << 32 | (subleaf & 0xffffffffL);
    }
}
