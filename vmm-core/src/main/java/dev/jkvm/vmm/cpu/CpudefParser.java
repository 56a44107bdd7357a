package dev.jkvm.vmm.cpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * <p>Errors are one line, {@code FILE:LINE: what}.
 *
 * <pre>{@code
 * List<CpuModel> models = new CpudefParser(CpuFeatureTable.standard()).parse(Path.of("my-cpus.conf"));
 * }</pre>
 */
public final class CpudefParser {

    private static final Pattern GROUP = Pattern.compile("\\[\\s*([^\\]\\s\"]+)(?:\\s+\"([^\"]*)\")?\\s*]");
    private static final Pattern ASSIGNMENT = Pattern.compile("(\\S+)\\s*=\\s*\"([^\"]*)\"");

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
    private static final List<String> STRING_KEYS = List.of("name", "vendor", "model_id", "cache");

    /** Far more than any [cpudef] file needs. */
    static final int MAX_FILE_BYTES = 1 << 20;

    private final CpuFeatureTable table;

    public CpudefParser(CpuFeatureTable table) {
        this.table = table;
    }

    /** The models defined in {@code file}. */
    public List<CpuModel> parse(Path file) {
        List<String> lines;
        try (java.io.InputStream in = Files.newInputStream(file)) {
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
        return parse(file.toString(), lines, CpuModel.Kind.FILE);
    }

    /** The models in {@code lines}, named {@code source} in messages and origins. */
    public List<CpuModel> parse(String source, List<String> lines, CpuModel.Kind kind) {
        List<Group> groups = groups(source, lines);
        List<CpuModel> models = new ArrayList<>();
        for (Group g : groups) {
            if (g.name.equals("cpudef")) {
                models.add(model(source, g, kind));
            }
        }
        return models;
    }

    /** One {@code [group]} and its assignments, with the line each came from. */
    private record Group(String name, int line, Map<String, String> values, Map<String, Integer> lines) {
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
            Matcher g = GROUP.matcher(line);
            if (g.matches()) {
                current = new Group(g.group(1), lineNo, new LinkedHashMap<>(), new LinkedHashMap<>());
                groups.add(current);
                continue;
            }
            Matcher a = ASSIGNMENT.matcher(line);
            if (a.matches()) {
                if (current == null) {
                    throw error(source, lineNo, "no group defined");
                }
                current.values.put(a.group(1), a.group(2));
                current.lines.put(a.group(1), lineNo);
                continue;
            }
            throw error(source, lineNo, "parse error");
        }
        return groups;
    }

    private CpuModel model(String source, Group g, CpuModel.Kind kind) {
        for (String key : g.values.keySet()) {
            if (!FEATURE_KEYS.containsKey(key) && !NUMBER_KEYS.contains(key) && !STRING_KEYS.contains(key)) {
                throw error(source, g.lines.get(key), "Invalid parameter '" + key + "'");
            }
        }
        String name = g.values.get("name");
        if (name == null || name.isBlank()) {
            throw error(source, g.line, "cpudef without a name");
        }
        String vendor = g.values.getOrDefault("vendor", CpuModel.INTEL);
        if (vendor.length() != 12) {
            throw error(source, g.lines.get("vendor"),
                    "value of property 'vendor' must consist of exactly 12 characters");
        }
        String modelId = g.values.getOrDefault("model_id", "");
        if (modelId.length() > 48) {
            throw error(source, g.lines.get("model_id"), "model_id is longer than 48 characters");
        }
        int family = number(source, g, "family", 0, 0xff + 0xf);
        int model = number(source, g, "model", 0, 0xff);
        int stepping = number(source, g, "stepping", 0, 0xf);
        int level = number(source, g, "level", 0, Integer.MAX_VALUE);
        int xlevel = number(source, g, "xlevel", 0, -1);
        boolean vendorFixed = number(source, g, "vendor_override", 0, Integer.MAX_VALUE) != 0;
        CacheModel caches;
        try {
            caches = CacheModel.forName(g.values.getOrDefault("cache", "legacy"));
        } catch (IllegalArgumentException e) {
            throw error(source, g.lines.get("cache"), "cache must be \"legacy\" or \"epyc\"");
        }
        FeatureBits bits = FeatureBits.EMPTY;
        for (Map.Entry<String, FeatureWord> key : FEATURE_KEYS.entrySet()) {
            String list = g.values.get(key.getKey());
            if (list != null) {
                bits = bits.with(key.getValue(), features(source, g.lines.get(key.getKey()), key.getValue(), list));
            }
        }
        String origin = kind == CpuModel.Kind.BUILTIN ? "built-in" : source + ":" + g.line;
        return new CpuModel(name, kind, origin, vendor, family, model, stepping, level, xlevel, modelId, bits, caches,
                vendorFixed);
    }

    private int features(String source, int line, FeatureWord word, String list) {
        int bits = 0;
        for (String name : list.strip().split("\\s+")) {
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
            value = parseCNumber(text.strip());
        } catch (NumberFormatException e) {
            throw error(source, g.lines.get(key), "Parameter '" + key + "' expects a number");
        }
        long limit = max < 0 ? 0xffffffffL : max;
        if (value < 0 || value > limit) {
            throw error(source, g.lines.get(key), "parameter '" + key + "' can be at most " + limit);
        }
        return (int) value;
    }

    static long parseCNumber(String text) {
        if (text.startsWith("0x") || text.startsWith("0X")) {
            return Long.parseLong(text.substring(2), 16);
        }
        if (text.length() > 1 && text.startsWith("0")) {
            return Long.parseLong(text.substring(1), 8);
        }
        return Long.parseLong(text);
    }

    private static CpuConfigException error(String source, int line, String message) {
        return new CpuConfigException(source + ":" + line + ": " + message);
    }

    private static String reason(IOException e) {
        return e instanceof java.nio.file.NoSuchFileException ? "No such file or directory"
                : e instanceof java.nio.file.AccessDeniedException ? "Permission denied"
                : String.valueOf(e.getMessage());
    }
}
