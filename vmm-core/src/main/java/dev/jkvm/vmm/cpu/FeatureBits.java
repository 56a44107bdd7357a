package dev.jkvm.vmm.cpu;

import java.util.Arrays;
import java.util.Set;

/**
 * A set of CPUID feature bits, word by word: what a model asks for, what the host offers, what
 * the guest finally sees. Immutable; a change returns a new set (or this one, when nothing changes).
 *
 * <pre>{@code
 * FeatureBits b = FeatureBits.EMPTY.with(FeatureWord.LEAF1_ECX, 1 << 25);   // aes
 * b.has(FeatureWord.LEAF1_ECX, 25);   // true
 * }</pre>
 */
public final class FeatureBits {

    /** No bit set. */
    public static final FeatureBits EMPTY = new FeatureBits(new FeatureWord[0], new int[0]);

    // The words with any bit set and their bits, side by side, each word once: a set holds at most
    // the ~16 feature words, and resolving a model changes it some 40 times while start-up runs
    // interpreted (a map copied per change was ~15 us each, half of the resolver's time).
    private final FeatureWord[] words;
    private final int[] bits;

    private FeatureBits(FeatureWord[] words, int[] bits) {
        this.words = words;
        this.bits = bits;
    }

    private int indexOf(FeatureWord word) {
        for (int i = 0; i < words.length; i++) {
            if (words[i] == word) { // mostly the same constant: the built-in tables use FeatureWord's
                return i;
            }
        }
        for (int i = 0; i < words.length; i++) {
            if (words[i].equals(word)) {
                return i;
            }
        }
        return -1;
    }

    /** The bits of {@code word} (0 when none). */
    public int get(FeatureWord word) {
        int i = indexOf(word);
        return i < 0 ? 0 : bits[i];
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
        int i = indexOf(word);
        if (i < 0 ? bits == 0 : this.bits[i] == bits) {
            return this;
        }
        if (i < 0) {
            FeatureWord[] w = Arrays.copyOf(words, words.length + 1);
            int[] b = Arrays.copyOf(this.bits, words.length + 1);
            w[words.length] = word;
            b[words.length] = bits;
            return new FeatureBits(w, b);
        }
        if (bits == 0) {
            FeatureWord[] w = new FeatureWord[words.length - 1];
            int[] b = new int[words.length - 1];
            System.arraycopy(words, 0, w, 0, i);
            System.arraycopy(this.bits, 0, b, 0, i);
            System.arraycopy(words, i + 1, w, i, w.length - i);
            System.arraycopy(this.bits, i + 1, b, i, b.length - i);
            return new FeatureBits(w, b);
        }
        int[] b = this.bits.clone();
        b[i] = bits;
        return new FeatureBits(words, b);
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
        return Set.of(words);
    }

    /** The same words with the same bits, in whatever order they were set. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FeatureBits other) || other.words.length != words.length) {
            return false;
        }
        for (int i = 0; i < words.length; i++) {
            if (other.get(words[i]) != bits[i]) {
                return false;
            }
        }
        return true;
    }

    /** As a map from word to bits would hash. */
    @Override
    public int hashCode() {
        int h = 0;
        for (int i = 0; i < words.length; i++) {
            h += words[i].hashCode() ^ bits[i];
        }
        return h;
    }

    /** The words in CPUID order (leaf, sub-leaf, register), so that equal sets read the same. */
    @Override
    public String toString() {
        Integer[] order = new Integer[words.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            FeatureWord x = words[a];
            FeatureWord y = words[b];
            int c = Integer.compareUnsigned(x.leaf(), y.leaf());
            c = c != 0 ? c : Integer.compare(x.subleaf(), y.subleaf());
            return c != 0 ? c : x.register().compareTo(y.register());
        });
        StringBuilder s = new StringBuilder("{");
        for (int i : order) {
            s.append(s.length() > 1 ? ", " : "").append(words[i]).append('=').append(String.format("%08x", bits[i]));
        }
        return s.append('}').toString();
    }
}
