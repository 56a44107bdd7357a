package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuModelsTest {

    private final CpuModels models = CpuModels.builtin();
    private final CpuFeatureTable table = CpuFeatureTable.standard();

    private boolean has(CpuModel m, String feature) {
        return table.lookup(feature).stream().allMatch(m.features()::has);
    }

    @Test
    void theRequiredModelsAreBuiltIn() {
        for (String name : List.of("qemu64", "qemu32", "kvm64", "kvm32", "core2duo", "Nehalem", "Westmere",
                "SandyBridge", "IvyBridge", "Haswell", "Broadwell", "Skylake-Client", "Skylake-Server",
                "Cascadelake-Server", "Icelake-Server", "EPYC", "host", "max")) {
            assertTrue(models.find(name).isPresent(), name);
        }
    }

    @Test
    void westmereIsIntelFamily6Model44WithAesWithoutAvx() {
        CpuModel m = models.require("Westmere");
        assertEquals(CpuModel.INTEL, m.vendor());
        assertEquals(6, m.family());
        assertEquals(44, m.model());
        assertEquals(1, m.stepping());
        assertEquals(11, m.level());
        assertEquals(0x80000008, m.xlevel());
        assertEquals("Westmere E56xx/L56xx/X56xx (Nehalem-C)", m.modelId());
        assertTrue(has(m, "aes"));
        assertTrue(has(m, "arat"));
        assertFalse(has(m, "avx"));
        assertEquals(0x000206c1, m.signature());
    }

    @Test
    void qemu64MatchesQemu() {
        CpuModel m = models.require("qemu64");
        assertEquals(CpuModel.AMD, m.vendor());
        assertEquals(CpuSignature.encode(15, 107, 1), m.signature());
        assertEquals(0x00060fb1, m.signature());
        assertEquals(0xd, m.level());
        assertEquals(0x8000000a, m.xlevel());
        assertEquals("QEMU Virtual CPU version 2.5+", m.modelId());
        // PPRO_FEATURES | mtrr clflush mca pse36: the CPUID.1:EDX a qemu64 guest reads
        assertEquals(0x078bfbfd, m.features().get(FeatureWord.LEAF1_EDX));
        assertEquals(1 | 1 << 13, m.features().get(FeatureWord.LEAF1_ECX));
        assertEquals(1 << 29 | 1 << 11 | 1 << 20, m.features().get(FeatureWord.EXT1_EDX));
        assertEquals(1 | 1 << 2, m.features().get(FeatureWord.EXT1_ECX));
    }

    @Test
    void familiesAboveFifteenUseTheExtendedField() {
        CpuModel epyc = models.require("EPYC");
        assertEquals(0x00800f12, epyc.signature());
        assertEquals(CacheModel.EPYC, epyc.caches());
        assertEquals(0x8000001e, epyc.xlevel());
        assertEquals(CpuSignature.encode(6, 134, 0), models.require("Icelake-Server").signature());
        assertEquals(0x00080660, models.require("Icelake-Server").signature());
    }

    @Test
    void serverModelsCarryTheirLeaf7Words() {
        CpuModel skx = models.require("Skylake-Server");
        assertTrue(has(skx, "avx512f"));
        assertTrue(has(skx, "pku"));
        assertTrue(has(skx, "xsavec"));
        CpuModel clx = models.require("Cascadelake-Server");
        assertTrue(has(clx, "avx512vnni"));
        assertTrue(has(clx, "spec-ctrl"));
        assertTrue(has(models.require("Icelake-Server"), "la57"));
        assertTrue(has(models.require("Icelake-Server"), "wbnoinvd"));
    }

    @Test
    void unknownModelIsOneLine() {
        CpuConfigException e = assertThrows(CpuConfigException.class, () -> models.require("NoSuchModel"));
        assertEquals("unable to find CPU model 'NoSuchModel'", e.getMessage());
    }

    @Test
    void helpListsModelsAsQemuAndTheFlags() {
        String help = models.help();
        assertTrue(help.startsWith("Available CPUs:\n"));
        assertTrue(help.contains("\nx86 qemu64                (alias configured by machine type)\n"), help);
        assertTrue(help.contains("\nx86 qemu64-v1             QEMU Virtual CPU version 2.5+\n"), help);
        assertTrue(help.contains("\nx86 Westmere-v1           Westmere E56xx/L56xx/X56xx (Nehalem-C)\n"));
        assertTrue(help.contains("\nx86 Westmere-IBRS         (alias of Westmere-v2)\n"));
        assertTrue(help.contains("\nx86 host                  KVM processor with all supported host features\n"));
        assertTrue(help.contains("\nRecognized CPUID flags:\n  3dnow 3dnowext 3dnowprefetch"));
        assertTrue(help.contains(" sse4.1 "));
        String flags = help.substring(help.indexOf("Recognized CPUID flags:"));
        for (String line : flags.split("\n")) {
            assertTrue(line.length() < 77, line);
        }
        assertTrue(help.indexOf("x86 Broadwell") < help.indexOf("x86 Westmere"));
        assertTrue(help.indexOf("x86 Westmere") < help.indexOf("x86 qemu64"));
    }

    @Test
    void helpMarksModelsFromFiles(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mine.conf");
        Files.writeString(file, "[cpudef]\n  name = \"Mine\"\n  model_id = \"My own CPU\"\n");
        String help = models.withFile(file).help();
        assertTrue(help.contains("\nx86 Mine                  My own CPU (from " + file + ":1)\n"), help);
    }

    @Test
    void defaultFolderFollowsXdg() {
        Path home = Path.of("/home/u");
        assertEquals(Path.of("/home/u/.config/jkvm/cpus"), CpuModels.defaultFolder(Map.of(), home));
        assertEquals(Path.of("/home/u/.config/jkvm/cpus"),
                CpuModels.defaultFolder(Map.of("XDG_CONFIG_HOME", ""), home));
        assertEquals(Path.of("/etc/x/jkvm/cpus"), CpuModels.defaultFolder(Map.of("XDG_CONFIG_HOME", "/etc/x"), home));
    }

    @Test
    void folderModelsAreLoadedInNameOrderAndLaterOnesWin(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.conf"), "[cpudef]\n  name = \"Same\"\n  model_id = \"first\"\n");
        Files.writeString(dir.resolve("b.conf"), "[cpudef]\n  name = \"Same\"\n  model_id = \"second\"\n");
        Files.writeString(dir.resolve("ignored.txt"), "not a config");
        CpuModels loaded = models.withFolder(dir);
        assertEquals("second", loaded.require("Same").modelId());
        assertEquals(CpuModel.Kind.FILE, loaded.require("Same").kind());
        assertEquals(models, models.withFolder(dir.resolve("absent")));
    }
}
