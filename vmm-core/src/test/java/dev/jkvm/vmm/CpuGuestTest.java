package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.CpuidEntry;
import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import dev.jkvm.vmm.cpu.CpuidDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPUs a guest is given, as the guest itself reports them: the bundled {@code cpuinfo} kernel
 * reads the MP table, starts every enabled processor with INIT/SIPI and prints, on each, what
 * CPUID tells it. The same arguments as on jkvm's command line.
 *
 * <p>About flags: this host's KVM (kvm_pvm) shows the guest the host's feature bits whatever
 * {@code KVM_SET_CPUID2} said (vendor, family/model/stepping, brand and topology leaves are
 * honoured): {@code KVM_GET_CPUID2} returns the host's feature words. jkvm notices and warns; the
 * flag assertions then check what jkvm handed KVM and that warning. Where KVM keeps the bits
 * (stock KVM, the nested VM of scripts/in-vm), they check the guest's own view.
 */
@RequiresKvm
class CpuGuestTest {

    /** One {@code cpu ...} line of the guest. */
    record GuestCpu(Map<String, String> fields, SortedSet<String> flags) {
        String get(String key) {
            return fields.get(key);
        }
    }

    /** What the guest printed, and what jkvm gave KVM for vCPU 0. */
    record Report(List<GuestCpu> cpus, Map<String, String> summary, List<String> mpCpus, SortedSet<String> configuredFlags,
                  RunResult result, boolean honoured, List<String> warnings, long apsFinished) {
    }

    private static final Pattern FIELD = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)");

    static Report boot(String... args) {
        List<String> all = new ArrayList<>(List.of("-kernel", "cpuinfo", "-serial", "none", "-timeout", "120"));
        all.addAll(List.of(args));
        MachineConfig config = ((Invocation.Run) CommandLine.parse(all.toArray(String[]::new))).config();
        try (Machine m = Machine.create(config)) {
            List<CpuidEntry> configured = m.cpuid().entriesFor(0); // what jkvm handed KVM_SET_CPUID2
            RunResult r = m.run(Duration.ofSeconds(120));
            assertEquals(33, r.exitStatus(), r.message() + "\n" + r.serialTail(30));
            List<GuestCpu> cpus = new ArrayList<>();
            Map<String, String> summary = new LinkedHashMap<>();
            List<String> mp = new ArrayList<>();
            for (String line : r.serial().lines().toList()) {
                if (line.startsWith("cpu ")) {
                    int f = line.indexOf(" flags=");
                    Map<String, String> fields = fields(line.substring(0, f < 0 ? line.length() : f));
                    SortedSet<String> flags = new TreeSet<>(f < 0 ? List.of() : List.of(line.substring(f + 7).strip().split(" ")));
                    cpus.add(new GuestCpu(fields, flags));
                } else if (line.startsWith("cpus ")) {
                    summary.putAll(fields(line));
                } else if (line.startsWith("mp cpu ")) {
                    mp.add(line);
                }
            }
            return new Report(cpus, summary, mp, new CpuidDecoder(configured).flags(), r, m.cpuidFeaturesHonoured(),
                    m.warnings(), m.readSymbolValue("ap_finished"));
        }
    }

    private static Map<String, String> fields(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(text);
        while (m.find()) {
            out.put(m.group(1), m.group(2).replace("\"", ""));
        }
        return out;
    }

    /**
     * Asserts a flag is (or is not) what the guest runs with: from inside the guest where KVM kept
     * the bits jkvm set; where it replaced them (this host), as jkvm set them, and jkvm must have
     * said so in its warning.
     */
    private static void assertFlag(Report r, String flag, boolean present) {
        if (r.honoured()) {
            assertEquals(present, r.cpus().get(0).flags().contains(flag), flag + " as the guest sees it");
        } else {
            assertEquals(present, r.configuredFlags().contains(flag), flag + " as jkvm gave it to KVM_SET_CPUID2");
            assertTrue(r.warnings().stream().anyMatch(w -> w.contains("gives the guest its own CPUID flags")), r.warnings().toString());
        }
    }

    @Test
    void eightCpusInTwoPackagesOfTwoCoresOfTwoThreads() {
        Report r = boot("-smp", "8,sockets=2,cores=2,threads=2");
        assertEquals("8", r.summary().get("online"), r.summary().toString());
        assertEquals(8, r.cpus().size());
        assertEquals(7, r.apsFinished(), "the guest's own count of application processors, read by its symbol");
        Set<String> apicIds = new HashSet<>();
        Set<String> places = new HashSet<>();
        for (GuestCpu c : r.cpus()) {
            apicIds.add(c.get("apic"));
            places.add(c.get("pkg") + "/" + c.get("core") + "/" + c.get("thread"));
        }
        assertEquals(8, apicIds.size(), "distinct APIC IDs");
        assertEquals(Set.of("0/0/0", "0/0/1", "0/1/0", "0/1/1", "1/0/0", "1/0/1", "1/1/0", "1/1/1"), places);
    }

    @Test
    void maxcpusListsDisabledProcessors() {
        Report r = boot("-smp", "2,maxcpus=4");
        assertEquals("2", r.summary().get("online"));
        assertEquals("4", r.summary().get("mp_entries"));
        assertEquals("2", r.summary().get("mp_disabled"));
        assertEquals(1, r.mpCpus().stream().filter(l -> l.contains("bsp=1")).count());
    }

    @Test
    void westmereIsAnIntelFamily6Model44WithAesWithoutAvx() {
        Report r = boot("-cpu", "Westmere,vendor=GenuineIntel"); // else the host's vendor, as QEMU under KVM
        GuestCpu c = r.cpus().get(0);
        assertEquals("GenuineIntel", c.get("vendor"));
        assertEquals("6", c.get("family"));
        assertEquals("44", c.get("model"));
        assertTrue(c.get("brand").startsWith("Westmere"), c.get("brand"));
        assertFlag(r, "avx", false);
        // aes: Westmere has it; where KVM cannot provide it jkvm drops it with QEMU's warning.
        boolean kvmHasAes = boot("-cpu", "host").configuredFlags().contains("aes");
        assertFlag(r, "aes", kvmHasAes);
    }

    @Test
    void nehalemWithoutSse42LosesIt() {
        Report plain = boot("-cpu", "Nehalem");
        Report minus = boot("-cpu", "Nehalem,-sse4_2");
        boolean kvmHasIt = boot("-cpu", "host").configuredFlags().contains("sse4_2");
        assertFlag(plain, "sse4_2", kvmHasIt);
        assertFlag(minus, "sse4_2", false);
        assertEquals("Intel Core i7 9xx (Nehalem Class Core i7)", plain.cpus().get(0).get("brand"));
    }

    @Test
    void kvm64AndHostDiffer() {
        Report kvm64 = boot("-cpu", "kvm64");
        Report host = boot("-cpu", "host");
        assertEquals("Common KVM processor", kvm64.cpus().get(0).get("brand"));
        assertNotEquals(kvm64.cpus().get(0).get("brand"), host.cpus().get(0).get("brand"));
        assertNotEquals(kvm64.configuredFlags(), host.configuredFlags());
        assertTrue(host.configuredFlags().containsAll(kvm64.configuredFlags().stream()
                .filter(f -> !f.equals("hypervisor")).toList()) || !host.configuredFlags().isEmpty());
        // host gives the guest this CPU's vendor, family and model (from KVM's supported CPUID)
        assertFalse(host.cpus().get(0).get("vendor").isEmpty());
        // and its brand string, as QEMU (from /proc/cpuinfo where KVM lists no brand leaves)
        assertEquals(dev.jkvm.vmm.host.HostCpus.modelName(), host.cpus().get(0).get("brand"));
    }

    /**
     * QEMU 7.2's models the issue names, as the guest sees them, against QEMU's own expansion of
     * each (the reference captured from the real binary, src/test/resources/.../qemu-cpu-models.txt):
     * family, model, stepping and brand, and the vendor QEMU shows under KVM: the host's. (The 32-bit models, athlon and n270 among them,
     * cannot run this 64-bit kernel: CpuModelsQemuTest checks their data.)
     */
    @Test
    void qemusModelsAreWhatTheGuestSees() throws IOException {
        Map<String, Matcher> reference = new LinkedHashMap<>();
        Pattern line = Pattern.compile("(\\S+) vendor=(\\S+) family=(\\d+) model=(\\d+) stepping=(\\d+) .*model-id=\"([^\"]*)\".*");
        try (var in = CpuGuestTest.class.getResourceAsStream("cpu/qemu-cpu-models.txt")) {
            for (String l : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList()) {
                Matcher m = line.matcher(l);
                if (m.matches()) {
                    reference.put(m.group(1), m);
                }
            }
        }
        String hostVendor = boot("-cpu", "host").cpus().get(0).get("vendor");
        for (String model : List.of("Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5", "Conroe",
                "Penryn", "phenom", "core2duo", "Denverton", "Snowridge-v4", "Cooperlake-v2", "Dhyana",
                "EPYC-Rome", "EPYC-Milan", "EPYC-IBPB", "Haswell-noTSX-IBRS", "Skylake-Client-v4", "Icelake-Server-v6")) {
            Matcher q = reference.get(model);
            GuestCpu c = boot("-cpu", model, "-m", "64").cpus().get(0);
            String seen = String.join(" ", c.get("vendor"), c.get("family"), c.get("model"), c.get("stepping"),
                    c.get("brand"));
            assertEquals(String.join(" ", hostVendor, q.group(3), q.group(4), q.group(5), q.group(6)), seen, model);
        }
    }

    /** CPUID.80000008H:EAX as the guest reads it: QEMU's 40 bits by default, phys-bits, host-phys-bits. */
    @Test
    void physBitsAreWhatTheGuestReadsInLeaf80000008() {
        Report max = boot("-cpu", "max"); // each read twice: a boot is ~16 s in the nested VM
        int host = Integer.parseInt(max.cpus().get(0).get("phys_bits"));
        assertTrue(host >= 32 && host <= 52, "host MAXPHYADDR " + host);
        Report qemu64 = boot("-cpu", "qemu64");
        assertEquals("40", qemu64.cpus().get(0).get("phys_bits"));
        assertEquals("48", qemu64.cpus().get(0).get("virt_bits"));
        Report fixed = boot("-cpu", "qemu64,phys-bits=42");
        assertEquals("42", fixed.cpus().get(0).get("phys_bits"));
        if (host != 42) {
            assertTrue(fixed.warnings().contains("warning: Host physical bits (" + host
                    + ") does not match phys-bits property (42)"), fixed.warnings().toString());
        }
        assertEquals(Integer.toString(host), boot("-cpu", "qemu64,host-phys-bits").cpus().get(0).get("phys_bits"));
        assertEquals(Integer.toString(Math.min(host, 39)),
                boot("-cpu", "max,host-phys-bits=on,host-phys-bits-limit=39").cpus().get(0).get("phys_bits"));
        // max is what the host's KVM offers: 57-bit linear addresses where it offers 5-level paging
        // (this Intel kvm_pvm host), 48 where not (an AMD one), and +la57 then gets QEMU's warning.
        String hostVirt = max.cpus().get(0).get("virt_bits");
        Report la57 = boot("-cpu", "qemu64,+la57");
        if (hostVirt.equals("57")) {
            assertEquals("57", la57.cpus().get(0).get("virt_bits"));
        } else {
            assertEquals("48", hostVirt);
            assertEquals("48", la57.cpus().get(0).get("virt_bits"));
            assertTrue(la57.warnings().contains("warning: host doesn't support requested feature: CPUID.07H:ECX.la57 [bit 16]"),
                    la57.warnings().toString());
        }
    }

    @Test
    void aModelFromACpudefFileIsWhatTheGuestSees(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("cpus.conf");
        Files.writeString(file, """
                # a user-defined model, qemu-kvm 1.1 style
                [cpudef]
                   name = "TestCore"
                   level = "11"
                   vendor = "GenuineIntel"
                   family = "6"
                   model = "58"
                   stepping = "9"
                   feature_edx = "sse2 sse fxsr mmx clflush pse36 pat cmov mca pge mtrr sep apic cx8 mce pae msr tsc pse de fpu"
                   feature_ecx = "popcnt cx16 sse3"
                   extfeature_edx = "i64 nx syscall"
                   extfeature_ecx = "lahf_lm"
                   xlevel = "0x80000008"
                   model_id = "jkvm test core from a cpudef file"
                """);
        Report r = boot("-readconfig", file.toString(), "-cpu", "TestCore");
        GuestCpu c = r.cpus().get(0);
        assertEquals("GenuineIntel", c.get("vendor"));
        assertEquals("6", c.get("family"));
        assertEquals("58", c.get("model"));
        assertEquals("9", c.get("stepping"));
        assertEquals("jkvm test core from a cpudef file", c.get("brand"));
    }
}
