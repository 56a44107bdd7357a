package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jkvm.kvm.CpuidEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A run takes the built-in CPU tables from {@code BuiltinCpuTables}, not from the text resources:
 * the committed arrays must be exactly what the generator makes of the text today, and what a run
 * gets from them (every model and further name, the feature table, {@code -cpu help}, the CPUID
 * plans and warnings) must equal what the text parsed whole gives.
 */
class BuiltinCpuTablesTest {

    private static final Path MODULE = Path.of(System.getProperty("user.dir"));

    private static List<String> resource(String name) throws IOException {
        try (var in = CpuModels.class.getResourceAsStream(name)) {
            return Words.lines(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** The registry as the text says it: cpu-models.conf parsed whole with the text's feature table. */
    private static CpuModels parsedModels() throws IOException {
        return CpuModels.of(new CpudefParser(CpuFeatureTable.load()).parseAll("cpu-models.conf",
                resource("cpu-models.conf"), CpuModel.Kind.BUILTIN, name -> Optional.empty()));
    }

    @Test
    void theCommittedArraysAreWhatTheGeneratorMakesOfTheText() throws IOException {
        String fresh = BuiltinCpuTablesGenerator.source(MODULE.resolve(BuiltinCpuTablesGenerator.RESOURCES));
        Path committed = MODULE.resolve(BuiltinCpuTablesGenerator.GENERATED).resolve("BuiltinCpuTables.java");
        String old = Files.exists(committed) ? Files.readString(committed) : "";
        if (!fresh.equals(old)) {
            String[] a = old.split("\n", -1);
            String[] b = fresh.split("\n", -1);
            int line = 0;
            while (line < a.length && line < b.length && a[line].equals(b[line])) {
                line++;
            }
            fail(committed + " is not what the text tables say (run vmm-core/generate-cpu-tables); line " + (line + 1)
                    + " is\n  " + (line < a.length ? a[line] : "(none)") + "\nand should be\n  "
                    + (line < b.length ? b[line] : "(none)"));
        }
    }

    @Test
    void theFeatureTableIsTheTextsTable() {
        CpuFeatureTable fast = CpuFeatureTable.standard();
        CpuFeatureTable text = CpuFeatureTable.load();
        assertEquals(text.all(), fast.all());
        assertTrue(fast.all().size() > 200, "features: " + fast.all().size());
        assertEquals(text.words(), fast.words());
        assertEquals(text.qemuNames(), fast.qemuNames());
        Set<String> names = new LinkedHashSet<>();
        for (CpuFeature f : text.all()) {
            f.qemuName().ifPresent(names::add);
            f.cpuinfoName().ifPresent(names::add);
            names.addAll(f.aliases());
        }
        for (String name : names) {
            assertEquals(text.lookup(name), fast.lookup(name), name);
            assertEquals(text.lookup(name.replace('-', '_')), fast.lookup(name.replace('-', '_')), name);
        }
        for (FeatureWord w : text.words()) {
            assertEquals(text.qemuMask(w), fast.qemuMask(w), w.toString());
            for (int bit = 0; bit < 32; bit++) {
                assertEquals(text.named(w, bit), fast.named(w, bit), w + " bit " + bit);
            }
        }
    }

    @Test
    void everyModelNameAndHelpAreTheTexts() throws IOException {
        CpuModels fast = CpuModels.builtin();
        CpuModels text = parsedModels();
        assertEquals(text.all().stream().map(CpuModel::name).toList(), fast.all().stream().map(CpuModel::name).toList());
        assertTrue(fast.all().size() > 50, "models: " + fast.all().size());
        for (int i = 0; i < text.all().size(); i++) {
            assertEquals(text.all().get(i), fast.all().get(i), text.all().get(i).name());
        }
        assertEquals(new ArrayList<>(text.aliases().entrySet()), new ArrayList<>(fast.aliases().entrySet()));
        assertTrue(fast.aliases().size() > 10, "aliases: " + fast.aliases().size());
        for (String name : names(text)) {
            assertEquals(text.find(name), fast.find(name), name);
            assertSame(fast.require(name), fast.require(name), name + " is made once");
        }
        assertEquals(text.help(), fast.help());
    }

    /**
     * Every model and further name, alone and with feature switches, on a host that lacks some of
     * the models' bits (warnings, and enforce's refusal), with two vCPUs: the same CPU, CPUID
     * tables and warnings from the arrays as from the text.
     */
    @Test
    void everyModelGivesTheTextsCpuidPlanAndWarnings() throws IOException {
        CpuModels fast = CpuModels.builtin();
        CpuModels text = parsedModels();
        List<CpuidEntry> host = SyntheticHost.without(
                SyntheticHost.without(SyntheticHost.intel(), 1, 0, Register.ECX, 0), 7, 0, Register.EBX, 5);
        Topology two = SmpOption.parse("2");
        int plans = 0;
        for (String name : names(text)) {
            for (String cpu : List.of(name, name + ",+ssse3,-sse2,x2apic=off", name + ",enforce")) {
                assertEquals(plan(cpu, text, two, host), plan(cpu, fast, two, host), cpu);
                plans++;
            }
        }
        assertTrue(plans > 300, "plans compared: " + plans);
    }

    /** What {@code cpu} resolves to with {@code models}: the CPU, each vCPU's table, the warnings; or the refusal. */
    private static List<Object> plan(String cpu, CpuModels models, Topology topology, List<CpuidEntry> host) {
        try {
            CpuidPlan p = CpuidPlan.create(CpuOption.parse(cpu, models), models, topology, HostCpuid.of(host), true);
            return List.of(p.cpu(), p.entriesFor(0), p.entriesFor(1), p.warnings());
        } catch (CpuConfigException e) {
            return List.of("refused: " + e.getMessage());
        }
    }

    private static List<String> names(CpuModels models) {
        List<String> names = new ArrayList<>();
        models.all().forEach(m -> names.add(m.name()));
        names.addAll(models.aliases().keySet());
        return names;
    }
}
