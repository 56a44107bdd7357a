package dev.jkvm.vmm.cpu;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The CPU models {@code -cpu} can name: jkvm's built-ins, {@code host} and {@code max}, then
 * models read from {@code [cpudef]} files (a later definition of a name replaces an earlier one,
 * as in qemu-kvm). Immutable; loading returns a new registry.
 *
 * <pre>{@code
 * CpuModels models = CpuModels.builtin()
 *         .withFolder(CpuModels.defaultFolder(System.getenv(), Path.of(System.getProperty("user.home"))))
 *         .withFile(Path.of("extra.conf"));               // -readconfig extra.conf
 * System.out.print(models.help());                        // -cpu help
 * }</pre>
 */
public final class CpuModels {

    private static final class Builtin {
        static final CpuModels REGISTRY = load();
    }

    /** A model by name, parsed when first asked for (the built-ins) or already parsed (host, max, files). */
    private final Map<String, Supplier<CpuModel>> models;
    private final Map<String, CpudefParser.Alias> aliases;
    private final Map<String, String> notes;

    private CpuModels(Map<String, Supplier<CpuModel>> models, Map<String, CpudefParser.Alias> aliases, Map<String, String> notes) {
        this.models = Collections.unmodifiableMap(models);
        this.aliases = Collections.unmodifiableMap(aliases);
        this.notes = Map.copyOf(notes);
    }

    /** The built-in models plus {@code host} and {@code max}. */
    public static CpuModels builtin() {
        return Builtin.REGISTRY;
    }

    /**
     * Where user models live when nothing else is said: {@code $XDG_CONFIG_HOME/jkvm/cpus}, or
     * {@code ~/.config/jkvm/cpus} when XDG_CONFIG_HOME is unset or empty (the XDG rule).
     */
    public static Path defaultFolder(Map<String, String> environment, Path userHome) {
        String xdg = environment.get("XDG_CONFIG_HOME");
        Path base = xdg == null || xdg.isEmpty() ? userHome.resolve(".config") : Path.of(xdg);
        return base.resolve("jkvm").resolve("cpus");
    }

    /** This registry plus the models in {@link #defaultFolder} for this process's environment and home. */
    public CpuModels withDefaultFolder() {
        return withFolder(defaultFolder(System.getenv(), Path.of(System.getProperty("user.home"))));
    }

    /** This registry plus every {@code *.conf} file in {@code folder}, in name order; none if the folder is absent. */
    public CpuModels withFolder(Path folder) {
        if (!Files.isDirectory(folder)) {
            return this;
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(folder, "*.conf")) {
            dir.forEach(files::add);
        } catch (IOException e) {
            throw new CpuConfigException("Cannot read " + folder + ": " + e.getMessage());
        }
        Collections.sort(files);
        CpuModels result = this;
        for (Path file : files) {
            result = result.withFile(file);
        }
        return result;
    }

    /**
     * This registry plus the {@code [cpudef]} models of {@code file} ({@code -readconfig FILE}).
     *
     * @throws CpuConfigException {@code FILE:LINE: reason} for a bad file
     */
    public CpuModels withFile(Path file) {
        CpudefParser.Definitions d = new CpudefParser(CpuFeatureTable.standard()).parseAll(file, this::find);
        return with(d.models(), d.aliases(), d.notes());
    }

    /** This registry plus {@code added} (replacing models of the same name). */
    public CpuModels with(List<CpuModel> added) {
        return with(added, Map.of(), Map.of());
    }

    private CpuModels with(List<CpuModel> added, Map<String, CpudefParser.Alias> addedAliases,
            Map<String, String> addedNotes) {
        Map<String, Supplier<CpuModel>> copy = new LinkedHashMap<>(models);
        Map<String, CpudefParser.Alias> names = new LinkedHashMap<>(aliases);
        for (CpuModel m : added) {
            copy.remove(m.name());
            copy.put(m.name(), () -> m);
            names.remove(m.name()); // a model of its own now, no longer a built-in's alias
        }
        names.putAll(addedAliases);
        Map<String, String> allNotes = new LinkedHashMap<>(notes);
        added.forEach(m -> allNotes.remove(m.name()));
        allNotes.putAll(addedNotes);
        return new CpuModels(copy, names, allNotes);
    }

    /** The model called {@code name} (case-sensitive), or the model an alias such as {@code Broadwell-IBRS} stands for. */
    public Optional<CpuModel> find(String name) {
        Supplier<CpuModel> m = models.get(name);
        if (m == null && aliases.containsKey(name)) {
            m = models.get(aliases.get(name).target());
        }
        return m == null ? Optional.empty() : Optional.of(m.get());
    }

    /** The further names ({@code Broadwell}, {@code Broadwell-IBRS}) and what each stands for. */
    public Map<String, CpudefParser.Alias> aliases() {
        return aliases;
    }

    /**
     * The model called {@code name}.
     *
     * @throws CpuConfigException {@code unable to find CPU model 'NAME'}
     */
    public CpuModel require(String name) {
        return find(name).orElseThrow(() -> new CpuConfigException("unable to find CPU model '" + name + "'"));
    }

    /** Every model: built-ins, host and max, then file models in load order. */
    public List<CpuModel> all() {
        return models.values().stream().map(Supplier::get).toList();
    }

    /** The text of {@code -cpu help}. */
    public String help() {
        return CpuHelp.text(all(), aliases, notes, CpuFeatureTable.standard());
    }

    /**
     * The built-in models from {@code BuiltinCpuTables}, what {@link CpudefParser} makes of the
     * resource {@code cpu-models.conf} (bases resolved), parsed ahead of time: a tiny guest's
     * start-up runs interpreted, and reading and indexing the text was ~15 ms of it for the one
     * model a run needs. Each model is made when first asked for.
     */
    private static CpuModels load() {
        String[] strings = BuiltinCpuTables.MODEL_STRINGS;
        Map<String, Supplier<CpuModel>> map = new LinkedHashMap<>();
        for (int i = 0; i < strings.length / 4; i++) {
            map.put(strings[4 * i], new BuiltinModel(i));
        }
        addHostAndMax(map);
        String[] a = BuiltinCpuTables.ALIASES;
        Map<String, CpudefParser.Alias> aliases = new LinkedHashMap<>();
        for (int i = 0; i < a.length; i += 3) {
            aliases.put(a[i], new CpudefParser.Alias(a[i + 1], a[i + 2].equals("machine_alias")));
        }
        String[] n = BuiltinCpuTables.NOTES;
        Map<String, String> notes = new HashMap<>();
        for (int i = 0; i < n.length; i += 2) {
            notes.put(n[i], n[i + 1]);
        }
        return new CpuModels(map, aliases, notes);
    }

    /** The registry of {@code d}'s models (as built-ins) with host and max: what the built-in arrays are checked against. */
    static CpuModels of(CpudefParser.Definitions d) {
        Map<String, Supplier<CpuModel>> map = new LinkedHashMap<>();
        for (CpuModel m : d.models()) {
            map.put(m.name(), () -> m);
        }
        addHostAndMax(map);
        return new CpuModels(map, d.aliases(), d.notes());
    }

    private static void addHostAndMax(Map<String, Supplier<CpuModel>> map) {
        CpuModel host = hostModel("host", CpuModel.Kind.HOST);
        CpuModel max = hostModel("max", CpuModel.Kind.MAX);
        map.put("host", () -> host);
        map.put("max", () -> max);
    }

    /** Built-in model {@code index} of {@code BuiltinCpuTables}, made when first asked for. */
    private static final class BuiltinModel implements Supplier<CpuModel> {
        private final int index;
        private volatile CpuModel model;

        BuiltinModel(int index) {
            this.index = index;
        }

        @Override
        public CpuModel get() {
            CpuModel m = model;
            if (m == null) { // two threads may both make it: equal models, either is kept
                m = builtinModel(index);
                model = m;
            }
            return m;
        }
    }

    private static CpuModel builtinModel(int index) {
        String[] s = BuiltinCpuTables.MODEL_STRINGS;
        int[] n = BuiltinCpuTables.MODEL_NUMBERS[index];
        FeatureBits bits = FeatureBits.EMPTY;
        for (int k = 6; k < n.length; k += 2) {
            bits = bits.with(CpuFeatureTable.builtinWord(n[k]), n[k + 1]);
        }
        return new CpuModel(s[4 * index], CpuModel.Kind.BUILTIN, "built-in", s[4 * index + 1], n[0], n[1], n[2], n[3],
                n[4], s[4 * index + 2], bits, cacheModel(s[4 * index + 3]), n[5] != 0);
    }

    /** The cache model of that constant name (not {@code valueOf}: its reflection is slow interpreted). */
    private static CacheModel cacheModel(String name) {
        for (CacheModel c : CacheModel.values()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new IllegalStateException("BuiltinCpuTables names cache model " + name);
    }

    /** A placeholder: identity and features are taken from the host when CPUID is built. */
    private static CpuModel hostModel(String name, CpuModel.Kind kind) {
        return new CpuModel(name, kind, "built-in", "", 0, 0, 0, 0, 0, "", FeatureBits.EMPTY, CacheModel.LEGACY, true);
    }
}
