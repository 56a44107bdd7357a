package dev.jkvm.vmm.cpu;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A set of CPUID feature bits, word by word: what a model asks for, what the host offers, what
 * the guest finally sees. Immutable; every change returns a new set.
 *
 * <pre>{@code
 * FeatureBits b = FeatureBits.EMPTY.with(FeatureWord.LEAF1_ECX, 1 << 25);   // aes
 * b.has(FeatureWord.LEAF1_ECX, 25);   // true
 * }</pre>
 */
public final class FeatureBits {

    /** No bit set. */
    public static final FeatureBits EMPTY = new FeatureBits(Map.of());

    private final Map<FeatureWord, Integer> words;

    private FeatureBits(Map<FeatureWord, Integer> words) {
        this.words = words;
    }

    /** The bits of {@code word} (0 when none). */
    public int get(FeatureWord word) {
        return words.getOrDefault(word, 0);
    }

    /** Whether {@code bit} of {@code word} is set. */
    public boolean has(FeatureWord word, int bit) {
        return (get(word) & 1 << bit) != 0;
    }

    /** Whether {@code feature} is set. */
    public boolean has(CpuFeature feature) {
        return has(feature.word(), feature.bit());
    }

    /** This set with {@code word} replaced by {@code bits}. */
    public FeatureBits with(FeatureWord word, int bits) {
        Map<FeatureWord, Integer> copy = new HashMap<>(words);
        if (bits == 0) {
            copy.remove(word);
        } else {
            copy.put(word, bits);
        }
        return new FeatureBits(Map.copyOf(copy));
    }

    /** This set with {@code mask} added to {@code word}. */
    public FeatureBits plus(FeatureWord word, int mask) {
        return with(word, get(word) | mask);
    }

    /** This set with {@code mask} taken out of {@code word}. */
    public FeatureBits minus(FeatureWord word, int mask) {
        return with(word, get(word) & ~mask);
    }

    /** This set with {@code feature} switched on or off. */
    public FeatureBits set(CpuFeature feature, boolean on) {
        return on ? plus(feature.word(), feature.mask()) : minus(feature.word(), feature.mask());
    }

    /** The words that have any bit set. */
    public Set<FeatureWord> words() {
        return words.keySet();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureBits other && words.equals(other.words);
    }

    @Override
    public int hashCode() {
        return words.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("{");
        words.forEach((w, b) -> s.append(s.length() > 1 ? ", " : "").append(w).append('=')
                .append(String.format("%08x", b)));
        return s.append('}').toString();
    }
}
