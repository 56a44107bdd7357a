package dev.jkvm.vmm.cpu;

import java.util.Locale;

/**
 * One 32-bit register of one CPUID leaf that holds feature flags, such as {@code CPUID.01H:ECX}.
 * The unit the model tables, the host filter and QEMU's warnings all speak in.
 *
 * <pre>{@code
 * FeatureWord.LEAF1_ECX.description();   // "CPUID.01H:ECX"
 * }</pre>
 *
 * @param leaf the CPUID function
 * @param subleaf the sub-leaf, or {@link #NO_SUBLEAF} for leaves read without one
 * @param register where the bits are
 */
public record FeatureWord(int leaf, int subleaf, Register register) {

    /** Marks a leaf that has no sub-leaves. */
    public static final int NO_SUBLEAF = -1;

    public static final FeatureWord LEAF1_EDX = new FeatureWord(0x1, NO_SUBLEAF, Register.EDX);
    public static final FeatureWord LEAF1_ECX = new FeatureWord(0x1, NO_SUBLEAF, Register.ECX);
    public static final FeatureWord LEAF6_EAX = new FeatureWord(0x6, NO_SUBLEAF, Register.EAX);
    public static final FeatureWord LEAF7_0_EBX = new FeatureWord(0x7, 0, Register.EBX);
    public static final FeatureWord LEAF7_0_ECX = new FeatureWord(0x7, 0, Register.ECX);
    public static final FeatureWord LEAF7_0_EDX = new FeatureWord(0x7, 0, Register.EDX);
    public static final FeatureWord LEAF7_1_EAX = new FeatureWord(0x7, 1, Register.EAX);
    public static final FeatureWord XSAVE_1_EAX = new FeatureWord(0xd, 1, Register.EAX);
    public static final FeatureWord KVM_EAX = new FeatureWord(0x40000001, NO_SUBLEAF, Register.EAX);
    public static final FeatureWord KVM_HINTS_EDX = new FeatureWord(0x40000001, NO_SUBLEAF, Register.EDX);
    public static final FeatureWord EXT1_EDX = new FeatureWord(0x80000001, NO_SUBLEAF, Register.EDX);
    public static final FeatureWord EXT1_ECX = new FeatureWord(0x80000001, NO_SUBLEAF, Register.ECX);
    public static final FeatureWord EXT7_EBX = new FeatureWord(0x80000007, NO_SUBLEAF, Register.EBX);
    public static final FeatureWord EXT7_EDX = new FeatureWord(0x80000007, NO_SUBLEAF, Register.EDX);
    public static final FeatureWord EXT8_EBX = new FeatureWord(0x80000008, NO_SUBLEAF, Register.EBX);
    public static final FeatureWord SVM_EDX = new FeatureWord(0x8000000a, NO_SUBLEAF, Register.EDX);

    public FeatureWord {
        if (subleaf < NO_SUBLEAF) {
            throw new IllegalArgumentException("sub-leaf " + subleaf);
        }
    }

    // Written out: the record's generated equals and hashCode link through invokedynamic, slow in
    // the interpreter that runs start-up, and parsing the model table hashes words thousands of times.
    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureWord w && w.leaf == leaf && w.subleaf == subleaf && w.register == register;
    }

    @Override
    public int hashCode() {
        return (leaf * 31 + subleaf) * 31 + register.ordinal();
    }

    /** Whether the leaf is read with a sub-leaf index. */
    public boolean hasSubleaf() {
        return subleaf != NO_SUBLEAF;
    }

    /**
     * How QEMU names the word in its warnings: {@code CPUID.01H:ECX}, {@code CPUID.80000001H:EDX}
     * (two hex digits at least, upper case; QEMU leaves the sub-leaf out).
     */
    public String description() {
        // by hand: the warning is printed at most starts, and a format string costs ~5 ms interpreted
        String hex = Integer.toHexString(leaf).toUpperCase(Locale.ROOT);
        return "CPUID." + (hex.length() < 2 ? "0" : "") + hex + "H:" + register;
    }

    @Override
    public String toString() {
        return hasSubleaf() ? description() + "[" + subleaf + "]" : description();
    }
}
