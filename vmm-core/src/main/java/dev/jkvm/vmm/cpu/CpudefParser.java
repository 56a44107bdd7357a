package dev.jkvm.vmm.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads CPU models written in qemu-kvm 1.1's {@code [cpudef]} format (its
 * {@code cpus-x86_64.conf}, loaded with {@code -readconfig}):
 *
 * <pre>
 * [cpudef]
 *    name = "Westmere"
 *    level = "11"
 *    vendor = "GenuineIntel"
 *    family = "6"
 *    model = "44"
 *    stepping = "1"
 *    feature_edx = "sse2 sse fxsr mmx clflush pse36 pat cmov mca pge mtrr sep apic cx8 mce pae msr tsc pse de fpu"
 *    feature_ecx = "aes popcnt sse4.2 sse4.1 cx16 ssse3 sse3"
 *    extfeature_edx = "i64 syscall xd"
 *    extfeature_ecx = "lahf_lm"
 *    xlevel = "0x8000000A"
 *    model_id = "Westmere E56xx/L56xx/X56xx (Nehalem-C)"
 * </pre>
 *
 * <p>Besides qemu-kvm's keys it understands the feature words QEMU grew later
 * ({@code feature_7_0_ebx}, {@code feature_7_0_ecx}, {@code feature_7_0_edx}, {@code feature_7_1_eax},
 * {@code feature_6_eax}, {@code feature_xsave}, {@code extfeature_80000007_edx},
 * {@code extfeature_80000008_ebx}, {@code feature_svm}, {@code feature_kvm}) and {@code cache}
 * ({@code legacy} or {@code epyc}); jkvm's own built-in models are written this way. Groups other
 * than {@code [cpudef]} (a {@code -readconfig} file may hold {@code [drive]} and the like) are
 * skipped: they are for other parts of the command line. Numbers are C-style (decimal,
 * {@code 0x} hex, leading-zero octal), as QemuOpts reads them.
 *
 * <p>QEMU's versioned models are written as QEMU writes them: {@code base = "Broadwell-v2"} starts
 * from a model defined before (in the same file, or a built-in one for user files), then
 * {@code features_on}/{@code features_off} (QEMU property names, any register) and the other
 * keys change it, as a version's props do. {@code alias = "Broadwell-IBRS"} gives further names
 * ({@code -cpu help}: "alias of"), {@code machine_alias = "Broadwell"} the unversioned name the
 * machine type resolves (v1 for pc-i440fx-7.2: "alias configured by machine type"), {@code note}
 * what {@code -cpu help} adds to the version's model id in brackets.
 *
 * <p>Errors are one line, {@code FILE:LINE: what}.
 *
 * <pre>{@code
 * List<CpuModel> models = new CpudefParser(CpuFeatureTable.standard()).parse(Path.of("my-cpus.conf"));
 * }</pre>
 */
public final class CpudefParser {


    /** The keys that hold feature names, and the word each names bits of. */
    private static final Map<String, FeatureWord> FEATURE_KEYS = Map.ofEntries(
            Map.entry("feature_edx", FeatureWord.LEAF1_EDX),
            Map.entry("feature_ecx", FeatureWord.LEAF1_ECX),
            Map.entry("extfeature_edx", FeatureWord.EXT1_EDX),
            Map.entry("extfeature_ecx", FeatureWord.EXT1_ECX),
            Map.entry("feature_6_eax", FeatureWord.LEAF6_EAX),
            Map.entry("feature_7_0_ebx", FeatureWord.LEAF7_0_EBX),
            Map.entry("feature_7_0_ecx", FeatureWord.LEAF7_0_ECX),
            Map.entry("feature_7_0_edx", FeatureWord.LEAF7_0_EDX),
            Map.entry("feature_7_1_eax", FeatureWord.LEAF7_1_EAX),
            Map.entry("feature_xsave", FeatureWord.XSAVE_1_EAX),
            Map.entry("extfeature_80000007_edx", FeatureWord.EXT7_EDX),
            Map.entry("extfeature_80000008_ebx", FeatureWord.EXT8_EBX),
            Map.entry("feature_svm", FeatureWord.SVM_EDX),
            Map.entry("feature_kvm", FeatureWord.KVM_EAX));

    private static final List<String> NUMBER_KEYS =
            List.of("level", "family", "model", "stepping", "xlevel", "vendor_override");
    private static final List<String> STRING_KEYS = List.of("name", "vendor", "model_id", "cache", "base",
            "features_on", "features_off", "alias", "machine_alias", "note");

    /** Far more than any [cpudef] file needs. */
    static final int MAX_FILE_BYTES = 1 << 20;

    private final CpuFeatureTable table;

    public CpudefParser(CpuFeatureTable table) {
        this.table = table;
    }

    /** What a file defines: its models, and the further names of some of them. */
    public record Definitions(List<CpuModel> models, Map<String, Alias> aliases, Map<String, String> notes) {
        public Definitions {
            models = List.copyOf(models);
            aliases = Collections.unmodifiableMap(new LinkedHashMap<>(aliases));
            notes = Map.copyOf(notes);
        }
    }

    /**
     * A further name of a model.
     *
     * @param target the model's own name
     * @param byMachine the unversioned name whose version the machine type picks
     */
    public record Alias(String target, boolean byMachine) {
    }

    /** The models defined in {@code file}. */
    public List<CpuModel> parse(Path file) {
        return parseAll(file, name -> Optional.empty()).models();
    }

    /** The models and aliases of {@code file}; {@code base} may name a model {@code known} finds. */
    public Definitions parseAll(Path file, Function<String, Optional<CpuModel>> known) {
        List<String> lines;
        try (InputStream in = Files.newInputStream(file)) {
            // bounded: a device such as /dev/zero never ends
            byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new CpuConfigException("Config file " + file + " is larger than " + (MAX_FILE_BYTES >> 20)
                        + " MiB: not a [cpudef] file");
            }
            lines = new String(bytes, StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new CpuConfigException("Cannot read config file " + file + ": " + reason(e));
        }
        return parseAll(file.toString(), lines, CpuModel.Kind.FILE, known);
    }

    /** The models in {@code lines}, named {@code source} in messages and origins. */
    public List<CpuModel> parse(String source, List<String> lines, CpuModel.Kind kind) {
        return parseAll(source, lines, kind, name -> Optional.empty()).models();
    }

    /** The models and aliases in {@code lines}; {@code base} names a model defined above or one {@code known} finds. */
    public Definitions parseAll(String source, List<String> lines, CpuModel.Kind kind,
            Function<String, Optional<CpuModel>> known) {
        List<Group> groups = groups(source, lines);
        Map<String, CpuModel> models = new LinkedHashMap<>();
        Map<String, Alias> aliases = new LinkedHashMap<>();
        Map<String, String> notes = new LinkedHashMap<>();
        for (Group g : groups) {
            if (g.name.equals("cpudef")) {
                CpuModel base = null;
                String baseName = g.values.get("base");
                if (baseName != null) {
                    base = Optional.ofNullable(models.get(baseName)).or(() -> known.apply(baseName))
                            .orElseThrow(() -> error(source, g.lines.get("base"), "base model '" + baseName
                                    + "' is not defined above"));
                }
                CpuModel m = model(source, g, kind, base);
                models.remove(m.name());
                models.put(m.name(), m);
                if (g.values.containsKey("note")) {
                    notes.put(m.name(), g.values.get("note")); // QEMU's version note, shown by -cpu help
                }
                for (String key : List.of("machine_alias", "alias")) {
                    for (String a : Words.of(g.values.getOrDefault(key, ""))) {
                        if (!a.isEmpty()) {
                            aliases.put(a, new Alias(m.name(), key.equals("machine_alias")));
                        }
                    }
                }
            }
        }
        return new Definitions(List.copyOf(models.values()), aliases, notes);
    }

    /** One {@code [group]} and its assignments, with the line each came from. */
    private record Group(String name, int line, Map<String, String> values, Map<String, Integer> lines) {
    }

    // The line grammar, read by hand rather than by regular expressions (start-up runs interpreted):
    //   group       [NAME] or [NAME "ID"]: NAME without ']', '"' or blanks; ID without '"'
    //   assignment  KEY = "VALUE": KEY without blanks; VALUE without '"'

    /** The NAME of a group line (already stripped), or null when it is none. */
    private static String groupName(String line) {
        if (line.length() < 2 || line.charAt(0) != '[' || line.charAt(line.length() - 1) != ']') {
            return null;
        }
        List<String> words = Words.of(line.substring(1, line.length() - 1));
        if (words.isEmpty() || words.get(0).indexOf(']') >= 0 || words.get(0).indexOf('"') >= 0) {
            return null;
        }
        if (words.size() > 1) {
            String id = line.substring(line.indexOf(words.get(1), 1), line.length() - 1).strip();
            if (id.length() < 2 || id.charAt(0) != '"' || id.charAt(id.length() - 1) != '"'
                    || id.substring(1, id.length() - 1).indexOf('"') >= 0) {
                return null;
            }
        }
        return words.get(0);
    }

    /** {KEY, VALUE} of an assignment line (already stripped), or null when it is none. */
    private static String[] assignment(String line) {
        int close = line.length() - 1;
        if (close < 1 || line.charAt(close) != '"') {
            return null;
        }
        int open = line.lastIndexOf('"', close - 1);
        if (open < 0) {
            return null;
        }
        String head = line.substring(0, open).stripTrailing();
        if (!head.endsWith("=")) {
            return null;
        }
        String key = head.substring(0, head.length() - 1).stripTrailing();
        if (key.isEmpty() || Words.of(key).size() != 1) {
            return null;
        }
        return new String[] {key, line.substring(open + 1, close)};
    }

    private static List<Group> groups(String source, List<String> lines) {
        List<Group> groups = new ArrayList<>();
        Group current = null;
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String group = groupName(line);
            if (group != null) {
                current = new Group(group, lineNo, new LinkedHashMap<>(), new LinkedHashMap<>());
                groups.add(current);
                continue;
            }
            String[] a = assignment(line);
            if (a != null) {
                if (current == null) {
                    throw error(source, lineNo, "no group defined");
                }
                current.values.put(a[0], a[1]);
                current.lines.put(a[0], lineNo);
                continue;
            }
            throw error(source, lineNo, "parse error");
        }
        return groups;
    }

    private CpuModel model(String source, Group g, CpuModel.Kind kind, CpuModel base) {
        for (String key : g.values.keySet()) {
            if (!FEATURE_KEYS.containsKey(key) && !NUMBER_KEYS.contains(key) && !STRING_KEYS.contains(key)) {
                throw error(source, g.lines.get(key), "Invalid parameter '" + key + "'");
            }
        }
        String name = g.values.get("name");
        if (name == null || name.isBlank()) {
            throw error(source, g.line, "cpudef without a name");
        }
        String vendor = g.values.getOrDefault("vendor", base != null ? base.vendor() : CpuModel.INTEL);
        if (vendor.length() != 12 && !(vendor.isEmpty() && kind == CpuModel.Kind.BUILTIN)) {
            throw error(source, g.lines.get("vendor"),
                    "value of property 'vendor' must consist of exactly 12 characters");
        }
        String modelId = g.values.getOrDefault("model_id", base != null ? base.modelId() : "");
        if (modelId.length() > 48) {
            throw error(source, g.lines.get("model_id"), "model_id is longer than 48 characters");
        }
        int family = number(source, g, "family", base != null ? base.family() : 0, 0xff + 0xf);
        int model = number(source, g, "model", base != null ? base.model() : 0, 0xff);
        int stepping = number(source, g, "stepping", base != null ? base.stepping() : 0, 0xf);
        int level = number(source, g, "level", base != null ? base.level() : 0, Integer.MAX_VALUE);
        int xlevel = number(source, g, "xlevel", base != null ? base.xlevel() : 0, -1);
        boolean vendorFixed = number(source, g, "vendor_override", base != null && base.vendorFixed() ? 1 : 0,
                Integer.MAX_VALUE) != 0;
        CacheModel caches = base != null ? base.caches() : CacheModel.LEGACY;
        if (g.values.containsKey("cache")) {
            try {
                caches = CacheModel.forName(g.values.get("cache"));
            } catch (IllegalArgumentException e) {
                throw error(source, g.lines.get("cache"), "cache must be \"legacy\", \"epyc\", \"epyc-rome\" or \"epyc-milan\"");
            }
        }
        FeatureBits bits = base != null ? base.features() : FeatureBits.EMPTY;
        for (Map.Entry<String, FeatureWord> key : FEATURE_KEYS.entrySet()) {
            String list = g.values.get(key.getKey());
            if (list != null) {
                bits = bits.with(key.getValue(), features(source, g.lines.get(key.getKey()), key.getValue(), list));
            }
        }
        bits = switched(source, g, "features_on", bits, true);
        bits = switched(source, g, "features_off", bits, false);
        String origin = kind == CpuModel.Kind.BUILTIN ? "built-in" : source + ":" + g.line;
        return new CpuModel(name, kind, origin, vendor, family, model, stepping, level, xlevel, modelId, bits, caches,
                vendorFixed);
    }

    /** {@code features_on}/{@code features_off}: QEMU property names, in whatever register they live. */
    private FeatureBits switched(String source, Group g, String key, FeatureBits bits, boolean on) {
        for (String name : Words.of(g.values.getOrDefault(key, ""))) {
            if (name.isEmpty()) {
                continue;
            }
            List<CpuFeature> found = table.lookup(name).stream().filter(CpuFeature::qemuNamed).toList();
            if (found.isEmpty()) {
                throw error(source, g.lines.get(key), "Property '" + name + "' not found");
            }
            for (CpuFeature f : found) {
                bits = bits.set(f, on);
            }
        }
        return bits;
    }

    private int features(String source, int line, FeatureWord word, String list) {
        int bits = 0;
        for (String name : Words.of(list)) {
            if (name.isEmpty()) {
                continue;
            }
            Optional<CpuFeature> match = table.lookup(name).stream().filter(f -> f.word().equals(word)).findFirst();
            if (match.isEmpty() && word.equals(FeatureWord.EXT1_EDX) && isAmdAlias(name)) {
                // qemu-kvm 1.1 files list fpu, cx8, ... here too; QEMU now derives those
                // bits from CPUID.1:EDX for AMD vendors, so they are accepted and left out.
                continue;
            }
            if (match.isEmpty()) {
                throw error(source, line, "feature \"" + name + "\" not available in set " + word.description());
            }
            for (CpuFeature f : table.lookup(name)) {
                if (f.word().equals(word)) {
                    bits |= f.mask();
                }
            }
        }
        return bits;
    }

    private boolean isAmdAlias(String name) {
        return table.lookup(name).stream()
                .anyMatch(f -> f.word().equals(FeatureWord.LEAF1_EDX) && (f.mask() & CpuidBuilder.AMD_ALIASES) != 0);
    }

    /** A QemuOpts number: decimal, {@code 0x} hex or leading-zero octal; {@code max} -1 means unsigned 32-bit. */
    private static int number(String source, Group g, String key, int absent, long max) {
        String text = g.values.get(key);
        if (text == null) {
            return absent;
        }
        long value;
        try {
            value = CpuOption.parseCNumber(text.strip());
        } catch (NumberFormatException e) {
            throw error(source, g.lines.get(key), "Parameter '" + key + "' expects a number");
        }
        long limit = max < 0 ? 0xffffffffL : max;
        if (value < 0 || value > limit) {
            throw error(source, g.lines.get(key), "parameter '" + key + "' can be at most " + limit);
        }
        return (int) value;
    }

    private static CpuConfigException error(String source, int line, String message) {
        return new CpuConfigException(source + ":" + line + ": " + message);
    }

    private static String reason(IOException e) {
        return e instanceof NoSuchFileException ? "No such file or directory"
                : e instanceof AccessDeniedException ? "Permission denied"
                : String.valueOf(e.getMessage());
    }
}
