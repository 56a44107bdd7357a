package dev.jkvm.vmm.cpu;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * QEMU's Hyper-V enlightenment properties ({@code -cpu ...,hv-relaxed,hv-vpindex=on}), which
 * harnesses pass for their Hyper-V tests. jkvm offers no Hyper-V interface (its 0x40000000 leaves
 * are KVM's), so it refuses an enlightenment switched on the way QEMU refuses one the host's KVM
 * lacks ({@code Hyper-V relaxed timing (hv-relaxed) is not supported by kernel}), before anything
 * boots: a harness then skips the test instead of failing it. Switched off, or the parameters
 * that have no effect without one (vendor id, version, enforce-cpuid), they are accepted.
 *
 * <pre>{@code
 * HypervProperties.check("hv-relaxed", "on");   // throws: ... is not supported by jkvm
 * HypervProperties.check("hv-vendor-id", "KVMtest");   // accepted
 * }</pre>
 */
final class HypervProperties {

    /** Each enlightenment and QEMU's description of it (target/i386/kvm/kvm.c, kvm_hyperv_properties). */
    private static final Map<String, String> FEATURES = Map.ofEntries(
            Map.entry("hv-relaxed", "relaxed timing (hv-relaxed)"),
            Map.entry("hv-vapic", "virtual APIC (hv-vapic)"),
            Map.entry("hv-time", "clocksources (hv-time)"),
            Map.entry("hv-crash", "crash MSRs (hv-crash)"),
            Map.entry("hv-reset", "reset MSR (hv-reset)"),
            Map.entry("hv-vpindex", "VP_INDEX MSR (hv-vpindex)"),
            Map.entry("hv-runtime", "VP_RUNTIME MSR (hv-runtime)"),
            Map.entry("hv-synic", "synthetic interrupt controller (hv-synic)"),
            Map.entry("hv-stimer", "synthetic timers (hv-stimer)"),
            Map.entry("hv-frequencies", "frequency MSRs (hv-frequencies)"),
            Map.entry("hv-reenlightenment", "reenlightenment MSRs (hv-reenlightenment)"),
            Map.entry("hv-tlbflush", "paravirtualized TLB flush (hv-tlbflush)"),
            Map.entry("hv-evmcs", "enlightened VMCS (hv-evmcs)"),
            Map.entry("hv-ipi", "paravirtualized IPI (hv-ipi)"),
            Map.entry("hv-stimer-direct", "direct mode synthetic timers (hv-stimer-direct)"),
            Map.entry("hv-avic", "AVIC/APICv support (hv-avic/hv-apicv)"),
            Map.entry("hv-apicv", "AVIC/APICv support (hv-avic/hv-apicv)"),
            Map.entry("hv-syndbg", "Enlightened Syndbg (hv-syndbg)"),
            Map.entry("hv-emsr-bitmap", "enlightened MSR-Bitmap (hv-emsr-bitmap)"),
            Map.entry("hv-xmm-input", "XMM fast hypercall input (hv-xmm-input)"),
            Map.entry("hv-tlbflush-ext", "Extended gva ranges for TLB flush hypercalls (hv-tlbflush-ext)"),
            Map.entry("hv-tlbflush-direct", "direct TLB flush (hv-tlbflush-direct)"),
            Map.entry("hv-passthrough", "passthrough (hv-passthrough)"));

    /** Parameters of the enlightenments: nothing to refuse while no enlightenment is on. */
    private static final Set<String> PARAMETERS = Set.of("hv-vendor-id", "hv-version-id-build", "hv-version-id-major",
            "hv-version-id-minor", "hv-version-id-spack", "hv-version-id-sbranch", "hv-version-id-snumber",
            "hv-enforce-cpuid", "hv-no-nonarch-coresharing");

    /** QEMU's hv-spinlocks default: never notify (no enlightenment). */
    private static final long SPINLOCKS_NEVER = 0xffffffffL;

    private HypervProperties() {
    }

    /** Whether {@code key} is one of QEMU's Hyper-V properties. */
    static boolean isHyperv(String key) {
        return FEATURES.containsKey(key) || PARAMETERS.contains(key) || key.equals("hv-spinlocks");
    }

    /**
     * Accepts {@code key=value} or refuses it in one line.
     *
     * @throws CpuConfigException for an enlightenment switched on, an unknown {@code hv-} name or a bad value
     */
    static void check(String key, String value) {
        if (FEATURES.containsKey(key)) {
            if (CpuOption.bool(key, value)) {
                throw new CpuConfigException("Hyper-V " + FEATURES.get(key) + " is not supported by jkvm");
            }
        } else if (key.equals("hv-spinlocks")) {
            long attempts;
            try {
                attempts = CpuOption.parseCNumber(value.strip().toLowerCase(Locale.ROOT));
            } catch (NumberFormatException e) {
                throw new CpuConfigException("Parameter 'hv-spinlocks' expects a number");
            }
            if (attempts != SPINLOCKS_NEVER) {
                throw new CpuConfigException("Hyper-V spinlock retries (hv-spinlocks) are not supported by jkvm");
            }
        } else if (key.equals("hv-no-nonarch-coresharing")) {
            if (!Set.of("on", "off", "auto").contains(value)) {
                throw new CpuConfigException("Parameter 'hv-no-nonarch-coresharing' expects 'on', 'off' or 'auto'");
            }
        } else if (!PARAMETERS.contains(key)) {
            throw new CpuConfigException("Property '" + key + "' not found");
        }
    }
}
