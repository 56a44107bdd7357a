package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * jkvm's CPU models against QEMU 7.2's, as the real binary reports them: the resources
 * {@code qemu-cpu-help.txt} ({@code qemu-system-x86_64 -cpu help}) and {@code qemu-cpu-models.txt}
 * (its {@code query-cpu-model-expansion} of every model), captured by
 * {@code scripts/qemu-cpu-reference} from Debian bookworm's qemu-system-x86 7.2, so this test
 * needs no QEMU.
 */
class CpuModelsQemuTest {

    /** QEMU properties of MSRs jkvm does not emulate (see the header of cpu-models.conf). */
    private static final Set<String> MSR_ONLY = Set.of("rdctl-no", "ibrs-all", "skip-l1dfl-vmentry", "mds-no",
            "pschange-mc-no", "taa-no", "split-lock-detect");
    /**
     * The models whose definition has no VME. The reference was expanded under TCG, whose defaults
     * switch vme off in every model (QEMU's tcg_default_props); under KVM, jkvm's accelerator,
     * QEMU 7.2 keeps the VME of every other model (its query-cpu-definitions inside scripts/in-vm,
     * whose KVM lacks VME, names vme unavailable for kvm64: jkvm's models had lost it).
     */
    private static final Set<String> WITHOUT_VME = Set.of("base", "qemu32", "qemu32-v1", "qemu64", "qemu64-v1");
    private static final Pattern MODEL = Pattern.compile("(\\S+) vendor=(\\S+) family=(\\d+) model=(\\d+) stepping=(\\d+)"
            + " level=0x(\\p{XDigit}+) xlevel=0x(\\p{XDigit}+) model-id=\"([^\"]*)\"(?: alias-of=(\\S+))? features=(.*)");

    private final CpuModels models = CpuModels.builtin();
    private final CpuFeatureTable table = CpuFeatureTable.standard();

    private static List<String> resource(String name) {
        try (InputStream in = CpuModelsQemuTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The model lines of a {@code -cpu help} text: name and description, spaces collapsed. */
    private static List<String> modelLines(List<String> help) {
        return help.stream().filter(l -> l.startsWith("x86 ")).map(l -> l.substring(4).strip().replaceAll("\\s+", " "))
                .toList();
    }

    private static String name(String line) {
        return line.split(" ", 2)[0];
    }

    @Test
    void cpuHelpListsExactlyQemusModelsInQemusOrder() {
        List<String> qemu = modelLines(resource("qemu-cpu-help.txt")).stream().map(CpuModelsQemuTest::name).toList();
        List<String> jkvm = modelLines(models.help().lines().toList()).stream().map(CpuModelsQemuTest::name).toList();
        assertEquals(132, qemu.size(), "QEMU 7.2 lists 132 x86 models");
        assertEquals(qemu, jkvm);
    }

    @Test
    void cpuHelpDescribesEachModelAsQemu() {
        // host and max describe jkvm's own accelerator; every other line is QEMU's word for word
        List<String> qemu = modelLines(resource("qemu-cpu-help.txt")).stream()
                .filter(l -> !Set.of("host", "max").contains(name(l))).toList();
        List<String> jkvm = modelLines(models.help().lines().toList()).stream()
                .filter(l -> !Set.of("host", "max").contains(name(l))).toList();
        assertEquals(qemu, jkvm);
    }

    @Test
    void everyModelIsQemusModel() {
        List<String> lines = resource("qemu-cpu-models.txt");
        assertEquals(130, lines.size(), "every model but host and max");
        List<String> differences = new ArrayList<>();
        for (String line : lines) {
            Matcher m = MODEL.matcher(line);
            assertTrue(m.matches(), line);
            String name = m.group(1);
            CpuModel model = models.require(name);
            String expected = String.join(" | ", m.group(2).equals("-") ? "" : m.group(2), m.group(3), m.group(4),
                    m.group(5), Long.toString(Long.parseLong(m.group(6), 16)), Long.toString(Long.parseLong(m.group(7), 16)),
                    m.group(8), features(m.group(10)));
            String actual = String.join(" | ", model.vendor(), Integer.toString(model.family()),
                    Integer.toString(model.model()), Integer.toString(model.stepping()), Integer.toString(model.level()),
                    Integer.toUnsignedString(model.xlevel()), model.modelId(), features(model, name.equals("base")));
            if (!expected.equals(actual)) {
                differences.add(name + "\n  QEMU: " + expected + "\n  jkvm: " + actual);
            }
            if (m.group(9) != null) {
                assertEquals(m.group(9), model.name(), name + " is an alias of " + m.group(9));
            }
            if (model.features().has(FeatureWord.LEAF1_EDX, 1) == WITHOUT_VME.contains(name)) {
                differences.add(name + ": vme " + (WITHOUT_VME.contains(name) ? "set" : "missing") + " (QEMU under KVM)");
            }
        }
        assertEquals("", String.join("\n", differences));
    }

    @Test
    void theEpycFamiliesCarryTheirOwnCaches() {
        assertEquals(CacheModel.EPYC, models.require("EPYC-IBPB").caches());
        assertEquals(CacheModel.EPYC, models.require("Dhyana").caches());
        assertEquals(CacheModel.EPYC_ROME, models.require("EPYC-Rome-v2").caches());
        assertEquals(CacheModel.EPYC_MILAN, models.require("EPYC-Milan").caches());
        assertEquals(32 * 1024 * 1024, CacheModel.EPYC_MILAN.amd().l3().sizeBytes());
        assertEquals(CacheModel.LEGACY, models.require("Cooperlake").caches());
    }

    /** QEMU's list less what jkvm leaves out (VMX and MSR-only bits), sorted. */
    private static String features(String list) {
        return Arrays.stream(list.split(" ")).filter(f -> !f.isEmpty() && !f.startsWith("vmx-") && !MSR_ONLY.contains(f))
                .collect(Collectors.toCollection(TreeSet::new)).toString();
    }

    /**
     * The model's bits by QEMU's names, with the hypervisor bit QEMU adds to every model but base,
     * less vme as TCG's defaults (the reference's accelerator) switch it off.
     */
    private String features(CpuModel model, boolean base) {
        Set<String> names = new TreeSet<>();
        for (CpuFeature f : table.all()) {
            if (f.qemuNamed() && model.features().has(f) && !f.qemuName().orElseThrow().equals("vme")) { // TCG's vme=off
                names.add(f.qemuName().orElseThrow());
            }
        }
        if (!base) {
            names.add("hypervisor");
        }
        return names.toString();
    }
}
