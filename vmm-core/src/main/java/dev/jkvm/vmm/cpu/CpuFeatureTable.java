package dev.jkvm.vmm.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every CPUID feature bit jkvm knows by name, as the resource {@code cpu-features.txt} lists them:
 * the names {@code -cpu} and {@code [cpudef]} files accept, and the names the decoder prints. A
 * run reads the table from {@code BuiltinCpuTables}, the text parsed ahead of time (see
 * {@code vmm-core/generate-cpu-tables}; a test checks the two agree).
 *
 * <pre>{@code
 * CpuFeatureTable t = CpuFeatureTable.standard();
 * t.lookup("lahf_lm");                      // CPUID.80000001H:ECX bit 0
 * t.named(FeatureWord.LEAF1_ECX, 25);       // aes
 * }</pre>
 *
 * <p>A name may stand for more than one bit: QEMU's {@code kvmclock} sets bits 0 and 3 of
 * {@code CPUID.40000001H:EAX}.
 */
public final class CpuFeatureTable {

    private static final String RESOURCE = "cpu-features.txt";

    /** Made once: the table is immutable data shipped with the code. */
    private static final class Standard {
        static final FeatureWord[] WORDS = builtinWords();
        static final CpuFeatureTable TABLE = builtin(WORDS);
    }

    private final List<CpuFeature> features;
    private final Map<String, List<CpuFeature>> byName;
    /** Each word's features by bit: 32 slots, null where the table names no bit. */
    private final Map<FeatureWord, CpuFeature[]> byBit;

    CpuFeatureTable(List<CpuFeature> features) {
        // Plain loops and maps made once: the table is built at every start-up, interpreted.
        this.features = List.copyOf(features);
        // sized for every name at once: growing rehashes all names so far, ~5 times for ~400
        Map<String, List<CpuFeature>> names = new HashMap<>(4 * this.features.size());
        Map<FeatureWord, CpuFeature[]> bits = new HashMap<>();
        for (CpuFeature f : this.features) {
            if (f.qemuName().isPresent()) {
                addName(names, f.qemuName().get(), f);
            }
            if (f.cpuinfoName().isPresent()) {
                addName(names, f.cpuinfoName().get(), f);
            }
            for (String alias : f.aliases()) {
                addName(names, alias, f);
            }
            CpuFeature[] word = bits.get(f.word());
            if (word == null) {
                word = new CpuFeature[32];
                bits.put(f.word(), word);
            }
            if (word[f.bit()] != null) {
                throw new IllegalStateException("two names for " + f.word() + " bit " + f.bit());
            }
            word[f.bit()] = f;
        }
        this.byName = Collections.unmodifiableMap(names);
        this.byBit = Collections.unmodifiableMap(bits);
    }

    /**
     * {@code name} also stands for {@code f}, once: a feature's names are added one after another,
     * so a repeat is the list's last entry (compared by identity: a record's equals would
     * bootstrap ObjectMethods at start-up).
     */
    private static void addName(Map<String, List<CpuFeature>> names, String name, CpuFeature f) {
        List<CpuFeature> list = names.get(name);
        if (list == null) {
            list = new ArrayList<>(1);
            names.put(name, list);
        }
        if (list.isEmpty() || list.getLast() != f) {
            list.add(f);
        }
    }

    /** The table shipped with jkvm. */
    public static CpuFeatureTable standard() {
        return Standard.TABLE;
    }

    /** Every feature, in table order. */
    public List<CpuFeature> all() {
        return features;
    }

    /**
     * The bits {@code name} stands for, empty when unknown. Tries the name as given, then with
     * every {@code _} turned into {@code -} (QEMU's {@code feat2prop}).
     */
    public List<CpuFeature> lookup(String name) {
        List<CpuFeature> found = byName.get(name);
        if (found == null) {
            found = byName.get(name.replace('_', '-'));
        }
        return found == null ? List.of() : Collections.unmodifiableList(found);
    }

    /** The feature at {@code bit} of {@code word}, if the table names it. */
    public Optional<CpuFeature> named(FeatureWord word, int bit) {
        CpuFeature[] bits = byBit.get(word);
        return Optional.ofNullable(bits == null || bit < 0 || bit > 31 ? null : bits[bit]);
    }

    /** The words that have at least one named bit. */
    public Set<FeatureWord> words() {
        return byBit.keySet();
    }

    /** The bits of {@code word} QEMU has a property for (what {@code -cpu host} may pass on). */
    public int qemuMask(FeatureWord word) {
        int mask = 0;
        for (CpuFeature f : byBit.getOrDefault(word, new CpuFeature[0])) {
            if (f != null && f.qemuNamed()) {
                mask |= f.mask();
            }
        }
        return mask;
    }

    /** QEMU's property names, sorted and without repeats: the "Recognized CPUID flags". */
    public List<String> qemuNames() {
        Set<String> names = new TreeSet<>();
        for (CpuFeature f : features) {
            f.qemuName().ifPresent(names::add);
        }
        return List.copyOf(names);
    }

    /** Row {@code index} of {@code BuiltinCpuTables.WORDS}, the words the built-in models' bits are in. */
    static FeatureWord builtinWord(int index) {
        return Standard.WORDS[index];
    }

    /** The words of {@code BuiltinCpuTables}, FeatureWord's own constants where it has one (FeatureBits compares those first). */
    private static FeatureWord[] builtinWords() {
        List<FeatureWord> constants = List.of(FeatureWord.LEAF1_EDX, FeatureWord.LEAF1_ECX, FeatureWord.LEAF6_EAX,
                FeatureWord.LEAF7_0_EBX, FeatureWord.LEAF7_0_ECX, FeatureWord.LEAF7_0_EDX, FeatureWord.LEAF7_1_EAX,
                FeatureWord.XSAVE_1_EAX, FeatureWord.KVM_EAX, FeatureWord.KVM_HINTS_EDX, FeatureWord.EXT1_EDX,
                FeatureWord.EXT1_ECX, FeatureWord.EXT7_EBX, FeatureWord.EXT7_EDX, FeatureWord.EXT8_EBX,
                FeatureWord.SVM_EDX);
        int[] w = BuiltinCpuTables.WORDS;
        FeatureWord[] words = new FeatureWord[w.length / 3];
        for (int i = 0; i < words.length; i++) {
            FeatureWord word = new FeatureWord(w[3 * i], w[3 * i + 1], Register.values()[w[3 * i + 2]]);
            for (FeatureWord c : constants) {
                if (c.equals(word)) {
                    word = c;
                }
            }
            words[i] = word;
        }
        return words;
    }

    /** The table of {@code BuiltinCpuTables}' arrays: what {@link #load} makes of the text, without reading it. */
    private static CpuFeatureTable builtin(FeatureWord[] words) {
        int[] bits = BuiltinCpuTables.FEATURE_BITS;
        String[] names = BuiltinCpuTables.FEATURE_NAMES;
        List<CpuFeature> features = new ArrayList<>(bits.length / 2);
        for (int i = 0; i < bits.length / 2; i++) {
            String aliases = names[3 * i + 2];
            features.add(new CpuFeature(words[bits[2 * i]], bits[2 * i + 1], Optional.ofNullable(names[3 * i]),
                    Optional.ofNullable(names[3 * i + 1]), aliases == null ? List.of() : Words.of(aliases)));
        }
        return new CpuFeatureTable(features);
    }

    /** The table as {@code cpu-features.txt} says it, read and parsed (what the built-in arrays are made from). */
    static CpuFeatureTable load() {
        try (InputStream in = CpuFeatureTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the class path");
            }
            return parse(Words.lines(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CpuFeatureTable parse(List<String> lines) {
        List<CpuFeature> features = new ArrayList<>();
        int lineNo = 0;
        for (String raw : lines) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = Words.of(line).toArray(String[]::new);
            if (f.length < 6) {
                throw new IllegalStateException(RESOURCE + ":" + lineNo + ": expected 6 columns");
            }
            FeatureWord word = new FeatureWord((int) Long.decode(f[0]).longValue(),
                    f[1].equals("-") ? FeatureWord.NO_SUBLEAF : Integer.decode(f[1]), Register.parse(f[2]));
            features.add(new CpuFeature(word, Integer.parseInt(f[3]), optional(f[4]), optional(f[5]),
                    Collections.unmodifiableList(Arrays.asList(f).subList(6, f.length))));
        }
        return new CpuFeatureTable(features);
    }

    private static Optional<String> optional(String column) {
        return column.equals("-") ? Optional.empty() : Optional.of(column);
    }
}
