package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Compares the feature words jkvm gave {@code KVM_SET_CPUID2} with what KVM then holds
 * ({@code KVM_GET_CPUID2}). Stock KVM keeps them; some hosts do not (kvm_pvm replaces them with
 * the host's), and then no {@code -cpu} model or {@code -feat} can hide a feature from the guest:
 * jkvm says so rather than let a user believe the guest runs the model it asked for.
 */
public final class CpuidReadback {

    /** The leaves and registers that carry feature flags: leaf, subleaf, register (0 EAX .. 3 EDX). */
    private static final int[][] FEATURE_WORDS = {
            {1, 0, 2}, {1, 0, 3}, {7, 0, 1}, {7, 0, 2}, {7, 0, 3}, {0x80000001, 0, 2}, {0x80000001, 0, 3}};
    private static final String[] REGS = {"EAX", "EBX", "ECX", "EDX"};

    private CpuidReadback() {
    }

    /** A warning naming every feature word KVM changed, or empty when it kept them all. */
    public static Optional<String> compare(List<CpuidEntry> set, List<CpuidEntry> held) {
        List<String> changed = new ArrayList<>();
        for (int[] w : FEATURE_WORDS) {
            long a = word(set, w);
            long b = word(held, w);
            if (a >= 0 && b >= 0 && a != b) {
                changed.add(String.format(Locale.ROOT, "CPUID.%02XH:%s set %08x, KVM holds %08x", w[0], REGS[w[2]], a, b));
            }
        }
        if (changed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("warning: this host's KVM replaced the CPUID feature bits jkvm set, so the guest sees the"
                + " host's features, not the model's (" + String.join("; ", changed) + ")");
    }

    private static long word(List<CpuidEntry> entries, int[] w) {
        for (CpuidEntry e : entries) {
            if (e.function() == w[0] && e.index() == w[1]) {
                int v = switch (w[2]) {
                    case 0 -> e.eax();
                    case 1 -> e.ebx();
                    case 2 -> e.ecx();
                    default -> e.edx();
                };
                return Integer.toUnsignedLong(v);
            }
        }
        return -1;
    }
}
