package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpudefParserTest {

    /** A model as qemu-kvm 1.1's sysconfigs/target/cpus-x86_64.conf writes it. */
    private static final String QEMU_KVM_STYLE = """
            # comment
            [drive]
              file = "disk.img"

            [cpudef]
               name = "Westmere-file"
               level = "11"
               vendor = "GenuineIntel"
               family = "6"
               model = "44"
               stepping = "1"
               feature_edx = "sse2 sse fxsr mmx clflush pse36 pat cmov mca pge mtrr sep apic cx8 mce pae msr tsc pse de fpu"
               feature_ecx = "aes popcnt sse4.2 sse4.1 cx16 ssse3 sse3"
               extfeature_edx = "i64 syscall xd"
               extfeature_ecx = "lahf_lm"
               xlevel = "0x8000000A"
               model_id = "Westmere E56xx/L56xx/X56xx (Nehalem-C)"

            [cpudef]
               name = "Opteron_G1-file"
               level = "5"
               vendor = "AuthenticAMD"
               family = "15"
               model = "6"
               stepping = "1"
               feature_edx = "sse2 sse fxsr mmx clflush pse36 pat cmov mca pge mtrr sep apic cx8 mce pae msr tsc pse de fpu"
               feature_ecx = "sse3"
               extfeature_edx = "lm fxsr mmx nx pse36 pat cmov mca pge mtrr syscall apic cx8 mce pae msr tsc pse de fpu"
               extfeature_ecx = " "
               xlevel = "0x80000008"
               model_id = "AMD Opteron 240 (Gen 1 Class Opteron)"
            """;

    private static Path write(Path dir, String text) throws Exception {
        Path file = dir.resolve("cpus.conf");
        Files.writeString(file, text);
        return file;
    }

    private static String refusal(Path dir, String text) throws Exception {
        Path file = write(dir, text);
        return assertThrows(CpuConfigException.class,
                () -> new CpudefParser(CpuFeatureTable.standard()).parse(file)).getMessage();
    }

    @Test
    void readsQemuKvmStyleModels(@TempDir Path dir) throws Exception {
        Path file = write(dir, QEMU_KVM_STYLE);
        List<CpuModel> models = new CpudefParser(CpuFeatureTable.standard()).parse(file);
        assertEquals(2, models.size());
        CpuModel m = models.get(0);
        assertEquals("Westmere-file", m.name());
        assertEquals(CpuModel.Kind.FILE, m.kind());
        assertEquals(file + ":5", m.origin());
        assertEquals(0x000206c1, m.signature());
        assertEquals(0x8000000a, m.xlevel());
        // Same bits as the built-in Westmere, apart from VME, PCLMULQDQ and ARAT which QEMU added later.
        CpuModel builtin = CpuModels.builtin().require("Westmere");
        assertEquals(builtin.features().get(FeatureWord.LEAF1_EDX) & ~(1 << 1), m.features().get(FeatureWord.LEAF1_EDX));
        assertEquals(builtin.features().get(FeatureWord.LEAF1_ECX) & ~(1 << 1), m.features().get(FeatureWord.LEAF1_ECX));
        for (FeatureWord w : List.of(FeatureWord.EXT1_EDX, FeatureWord.EXT1_ECX)) {
            assertEquals(builtin.features().get(w), m.features().get(w), w.toString());
        }
        CpuModel amd = models.get(1);
        // fpu, cx8... in extfeature_edx are AMD's copies of leaf 1: accepted, derived later.
        assertEquals(1 << 29 | 1 << 20 | 1 << 11, amd.features().get(FeatureWord.EXT1_EDX));
        assertEquals(0, amd.features().get(FeatureWord.EXT1_ECX));
    }

    @Test
    void fileModelBuildsCpuid(@TempDir Path dir) throws Exception {
        CpuModels models = CpuModels.builtin().withFile(write(dir, QEMU_KVM_STYLE));
        CpuidPlan plan = CpuidPlan.create(CpuOption.parse("Westmere-file", models), models, Topology.SINGLE,
                SyntheticHost.intel());
        CpuidDecoder d = new CpuidDecoder(plan.entriesFor(0));
        assertEquals("GenuineIntel", d.vendor());
        assertEquals(44, d.model());
        assertTrue(d.flags().contains("aes"));
        assertTrue(d.flags().contains("sse4_2"));
        assertTrue(d.flags().contains("hypervisor"));
        assertFalse(d.flags().contains("avx"));
        assertEquals("Westmere E56xx/L56xx/X56xx (Nehalem-C)", d.brand());
    }

    @Test
    void errorsNameFileAndLine(@TempDir Path dir) throws Exception {
        String p = dir.resolve("cpus.conf").toString();
        assertEquals(p + ":3: feature \"avx2\" not available in set CPUID.01H:ECX",
                refusal(dir, "[cpudef]\n name = \"X\"\n feature_ecx = \"sse3 avx2\"\n"));
        assertEquals(p + ":3: Invalid parameter 'colour'",
                refusal(dir, "[cpudef]\n name = \"X\"\n colour = \"blue\"\n"));
        assertEquals(p + ":2: parse error", refusal(dir, "[cpudef]\n name = X\n"));
        assertEquals(p + ":1: no group defined", refusal(dir, "name = \"X\"\n"));
        assertEquals(p + ":1: cpudef without a name", refusal(dir, "[cpudef]\n level = \"1\"\n"));
        assertEquals(p + ":3: Parameter 'family' expects a number",
                refusal(dir, "[cpudef]\n name = \"X\"\n family = \"six\"\n"));
        assertEquals(p + ":3: parameter 'stepping' can be at most 15",
                refusal(dir, "[cpudef]\n name = \"X\"\n stepping = \"16\"\n"));
        assertEquals(p + ":3: value of property 'vendor' must consist of exactly 12 characters",
                refusal(dir, "[cpudef]\n name = \"X\"\n vendor = \"Intel\"\n"));
    }

    @Test
    void missingFileIsOneLine(@TempDir Path dir) {
        Path absent = dir.resolve("absent.conf");
        CpuConfigException e = assertThrows(CpuConfigException.class, () -> CpuModels.builtin().withFile(absent));
        assertEquals("Cannot read config file " + absent + ": No such file or directory", e.getMessage());
    }

    @Test
    void anEndlessFileIsRefusedNotReadForEver() {
        CpuConfigException e = assertThrows(CpuConfigException.class,
                () -> CpuModels.builtin().withFile(Path.of("/dev/zero")));
        assertEquals("Config file /dev/zero is larger than 1 MiB: not a [cpudef] file", e.getMessage());
    }

    @Test
    void cNumbers() {
        assertEquals(11, CpuOption.parseCNumber("11"));
        assertEquals(0x8000000aL, CpuOption.parseCNumber("0x8000000A"));
        assertEquals(8, CpuOption.parseCNumber("010"));
        assertEquals(0, CpuOption.parseCNumber("0"));
    }

    @Test
    void versionsStartFromTheModelBeforeThemAsQemusDo(@TempDir Path dir) throws Exception {
        Path file = write(dir, """
                [cpudef]
                   name = "Mine-v2"
                   base = "Broadwell-v1"
                   features_off = "hle rtm"
                   features_on = "spec-ctrl la57"
                   stepping = "5"
                   alias = "Mine-noTSX Mine-other"
                   machine_alias = "Mine"
                """);
        CpuModels models = CpuModels.builtin().withFile(file);
        CpuModel base = models.require("Broadwell-v1");
        CpuModel m = models.require("Mine");
        assertEquals("Mine-v2", m.name());
        assertEquals(m, models.require("Mine-noTSX"));
        assertEquals(base.modelId(), m.modelId());
        assertEquals(5, m.stepping());
        assertEquals(base.family(), m.family());
        CpuFeatureTable t = CpuFeatureTable.standard();
        assertTrue(base.features().has(t.lookup("hle").get(0)));
        assertFalse(m.features().has(t.lookup("hle").get(0)));
        assertTrue(m.features().has(t.lookup("spec-ctrl").get(0)));
        assertTrue(m.features().has(t.lookup("la57").get(0)));
        assertTrue(m.features().has(t.lookup("avx2").get(0)), "the rest of Broadwell stays");
        assertTrue(models.help().contains("x86 Mine-noTSX            (alias of Mine-v2)\n"), models.help());
    }

    @Test
    void aBadBaseOrPropertyIsOneLine(@TempDir Path dir) throws Exception {
        assertTrue(refusal(dir, "[cpudef]\n name = \"X\"\n base = \"Nope\"\n")
                .endsWith(":3: base model 'Nope' is not defined above"));
        assertTrue(refusal(dir, "[cpudef]\n name = \"X\"\n features_on = \"frob\"\n")
                .endsWith(":3: Property 'frob' not found"));
    }
}
