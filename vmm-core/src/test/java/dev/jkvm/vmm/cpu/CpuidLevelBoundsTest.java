package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.CpuidEntry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code level=} and {@code xlevel=} at the top of their range: QEMU's "not set" value, and a bounded walk. */
class CpuidLevelBoundsTest {

    private static final CpuModels MODELS = CpuModels.builtin();
    /** Generous: the point is "does not loop for minutes", not speed. */
    private static final Duration NO_HANG = Duration.ofSeconds(60);

    private static List<CpuidEntry> entries(String cpu) {
        return CpuidPlan.create(CpuOption.parse(cpu, MODELS), MODELS, Topology.SINGLE, SyntheticHost.intel()).entriesFor(0);
    }

    private static int eax(List<CpuidEntry> entries, int leaf) {
        return new CpuidDecoder(entries).find(leaf, 0).orElseThrow().eax();
    }

    @Test
    void levelAllOnesIsQemusAutomaticLevel() {
        List<CpuidEntry> auto = assertTimeoutPreemptively(NO_HANG, () -> entries("qemu64,level=0xffffffff,xlevel=0xffffffff"));
        List<CpuidEntry> plain = entries("qemu64");
        assertEquals(eax(plain, 0), eax(auto, 0));
        assertEquals(eax(plain, 0x80000000), eax(auto, 0x80000000));
    }

    @Test
    void aHugeLevelIsWhatTheGuestReadsAndCostsAFewHundredLeavesAtMost() {
        List<CpuidEntry> e = assertTimeoutPreemptively(NO_HANG, () -> entries("qemu64,level=0xfffffffe,xlevel=0xfffffffe"));
        assertEquals(0xfffffffe, eax(e, 0));
        assertEquals(0xfffffffe, eax(e, 0x80000000));
        assertTrue(e.size() <= CpuidBuilder.MAX_ENTRIES, e.size() + " entries");
        // what jkvm fills below the cap is still there, unchanged
        List<CpuidEntry> small = entries("qemu64,level=0x1f");
        assertEquals(new CpuidDecoder(small).find(1, 0), new CpuidDecoder(e).find(1, 0));
        assertEquals(new CpuidDecoder(small).find(0xb, 0), new CpuidDecoder(e).find(0xb, 0));
    }
}
