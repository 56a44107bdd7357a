package dev.jkvm.kvm.abi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jkvm.kvm.abigen.AbiGenerator;
import java.io.IOException;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed ABI sources are exactly what the C compiler says today: the generator's probe is
 * compiled and run against the installed headers, and every generated file must match byte for
 * byte. A hand edit, a changed header or a stale spec fails here; {@code kvm-bindings/generate-abi}
 * mends it.
 */
class AbiLayoutTest {

    private static final Path MODULE = Path.of(System.getProperty("user.dir"));
    private static final Path GENERATED = MODULE.resolve("src/generated/java/dev/jkvm/kvm/abi");
    private static Map<String, String> fresh;

    @BeforeAll
    static void probe() {
        fresh = AbiGenerator.generate(MODULE.resolve("src/abi/kvm-abi.spec"));
    }

    @Test
    void committedSourcesMatchTheCompiler() throws IOException {
        List<String> differing = new ArrayList<>();
        for (var e : fresh.entrySet()) {
            Path committed = GENERATED.resolve(e.getKey());
            if (!Files.exists(committed) || !Files.readString(committed).equals(e.getValue())) {
                differing.add(e.getKey() + firstDifference(committed, e.getValue()));
            }
        }
        Set<String> extra = new TreeSet<>();
        try (var files = Files.list(GENERATED)) {
            files.map(p -> p.getFileName().toString()).filter(n -> !fresh.containsKey(n)).forEach(extra::add);
        }
        if (!differing.isEmpty() || !extra.isEmpty()) {
            fail("generated ABI sources differ from the compiler's answers (run kvm-bindings/generate-abi): "
                    + differing + (extra.isEmpty() ? "" : ", not generated: " + extra));
        }
    }

    private static String firstDifference(Path committed, String expected) throws IOException {
        if (!Files.exists(committed)) {
            return " (missing)";
        }
        String[] a = Files.readString(committed).split("\n", -1);
        String[] b = expected.split("\n", -1);
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (!a[i].equals(b[i])) {
                return " (line " + (i + 1) + ": has '" + a[i].strip() + "', compiler says '" + b[i].strip() + "')";
            }
        }
        return " (length differs)";
    }

    /** Every struct and constant the foundation names is in the spec, so dropping one is noticed. */
    @Test
    void coversTheStructsAndConstantsJkvmUses() {
        for (String c : List.of("KvmRun", "KvmRegs", "KvmSregs", "KvmSegment", "KvmDtable", "KvmFpu",
                "KvmUserspaceMemoryRegion", "KvmCpuid2", "KvmCpuidEntry2", "KvmMsrs", "KvmMsrEntry", "KvmMsrList",
                "KvmLapicState", "KvmPitConfig", "KvmIrqLevel", "KvmMpState", "KvmGuestDebug", "KvmStatsHeader",
                "KvmStatsDesc", "KvmIoctls", "KvmConstants", "Errno", "LibcConstants")) {
            assertTrue(fresh.containsKey(c + ".java"), c);
        }
        for (String part : List.of("IO_PORT", "MMIO_PHYS_ADDR", "HYPERCALL_NR", "INTERNAL_SUBERROR",
                "FAIL_ENTRY_HARDWARE_ENTRY_FAILURE_REASON", "SYSTEM_EVENT_TYPE", "EMULATION_FAILURE_INSN_BYTES")) {
            assertTrue(fresh.get("KvmRun.java").contains(" " + part + " = "), "kvm_run." + part);
        }
    }

    /** The generated layouts span exactly the C sizes (the layout and the offsets agree). */
    @Test
    void layoutsHaveTheCompilersSizes() {
        assertLayout(KvmRun.LAYOUT, KvmRun.SIZEOF);
        assertLayout(KvmRegs.LAYOUT, KvmRegs.SIZEOF);
        assertLayout(KvmSregs.LAYOUT, KvmSregs.SIZEOF);
        assertLayout(KvmFpu.LAYOUT, KvmFpu.SIZEOF);
        assertLayout(KvmCpuidEntry2.LAYOUT, KvmCpuidEntry2.SIZEOF);
        assertLayout(KvmLapicState.LAYOUT, KvmLapicState.SIZEOF);
        assertLayout(KvmGuestDebug.LAYOUT, KvmGuestDebug.SIZEOF);
        assertLayout(KvmStatsDesc.LAYOUT, KvmStatsDesc.SIZEOF);
        assertLayout(KvmIrqchip.LAYOUT, KvmIrqchip.SIZEOF);
        // The exit union is anonymous in C, so it is reached by its index (the tenth member).
        assertEquals(KvmRun.IO_PORT, KvmRun.LAYOUT.byteOffset(
                java.lang.foreign.MemoryLayout.PathElement.groupElement(9),
                java.lang.foreign.MemoryLayout.PathElement.groupElement("io"),
                java.lang.foreign.MemoryLayout.PathElement.groupElement("port")));
    }

    private static void assertLayout(StructLayout layout, long size) {
        assertEquals(size, layout.byteSize(), layout.name().orElse("?"));
    }

    /** Well-known values, as a sanity check of the probe itself. */
    @Test
    void knownValues() {
        assertEquals(12, KvmConstants.KVM_API_VERSION);
        assertEquals(0xae80L, KvmIoctls.KVM_RUN);
        assertEquals("KVM_CREATE_VCPU", KvmIoctls.name(KvmIoctls.KVM_CREATE_VCPU));
        assertEquals("EEXIST", Errno.name(17));
        assertEquals("File exists", Errno.description(Errno.EEXIST));
        assertEquals("KVM_EXIT_SHUTDOWN", KvmConstants.exitReasonName(8));
        assertEquals("exit 999", KvmConstants.exitReasonName(999));
    }
}
