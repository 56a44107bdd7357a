package dev.jkvm.vmm.cpu;

import java.util.List;
import java.util.Optional;

/**
 * One named CPUID feature bit: where it lives and what QEMU and Linux call it.
 *
 * <pre>{@code
 * CpuFeature f = CpuFeatureTable.standard().lookup("sse4_1").get(0);
 * f.word();   // CPUID.01H:ECX
 * f.bit();    // 19
 * }</pre>
 *
 * @param word the register of the leaf that holds the bit
 * @param bit 0..31
 * @param qemuName QEMU's property name, empty when QEMU does not name the bit (then only the
 *     decoder uses it and {@code -cpu host} does not pass it on)
 * @param cpuinfoName the flag as {@code /proc/cpuinfo} shows it, empty when Linux hides it
 * @param aliases further names accepted on the command line
 */
public record CpuFeature(FeatureWord word, int bit, Optional<String> qemuName, Optional<String> cpuinfoName,
        List<String> aliases) {

    public CpuFeature {
        if (bit < 0 || bit > 31) {
            throw new IllegalArgumentException("bit " + bit);
        }
        if (qemuName.isEmpty() && cpuinfoName.isEmpty()) {
            throw new IllegalArgumentException("feature " + word + " bit " + bit + " has no name");
        }
        aliases = List.copyOf(aliases);
    }

    /** The bit as a mask of its word. */
    public int mask() {
        return 1 << bit;
    }

    /** Whether QEMU has a property for this bit. */
    public boolean qemuNamed() {
        return qemuName.isPresent();
    }

    /** The name for messages: QEMU's, else Linux's. */
    public String name() {
        return qemuName.orElseGet(cpuinfoName::orElseThrow);
    }

    /** The name for flag lists: Linux's, else QEMU's (paravirtual bits Linux does not list). */
    public String flagName() {
        return cpuinfoName.orElseGet(qemuName::orElseThrow);
    }

    /** QEMU's warning text for this bit: {@code CPUID.01H:ECX.pni [bit 0]}. */
    public String describe() {
        return word.description() + "." + name() + " [bit " + bit + "]";
    }
}
