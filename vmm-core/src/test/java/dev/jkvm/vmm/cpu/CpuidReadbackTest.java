package dev.jkvm.vmm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.CpuidEntry;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What jkvm says when KVM replaces the feature bits it set (kvm_pvm does): one short line, only
 * about what the user asked for; the registers for {@code -d cpuid}.
 */
class CpuidReadbackTest {

    private static final CpuFeatureTable TABLE = CpuFeatureTable.standard();
    /** CPUID.1 as jkvm sets qemu64 without pni (host lacks it) and as kvm_pvm then holds it. */
    private static final List<CpuidEntry> SET = List.of(new CpuidEntry(1, 0, 0, 0x663, 0, 0x80202000, 0x078bfbfd));
    private static final List<CpuidEntry> HELD = List.of(new CpuidEntry(1, 0, 0, 0x663, 0, 0xf6f83203, 0x1f8bfbff));

    private static Optional<String> warning(String cpu, boolean fromHost) {
        CpuOption option = CpuOption.parse(cpu);
        return CpuidReadback.compare(SET, HELD).warning(option, fromHost,
                option.model().equals(CpuOption.DEFAULT_MODEL), TABLE);
    }

    @Test
    void keptBitsSayNothing() {
        CpuidReadback r = CpuidReadback.compare(SET, SET);
        assertTrue(r.honoured());
        assertEquals(Optional.empty(), r.warning(CpuOption.parse("Westmere,-aes"), false, false, TABLE));
        assertEquals(List.of("cpuid: KVM holds the feature words jkvm set"), r.details(TABLE));
    }

    @Test
    void theDefaultModelAndTheHostModelsSayNothing() {
        assertEquals(Optional.empty(), warning("qemu64", false));
        assertEquals(Optional.empty(), warning("host", true));
        assertEquals(Optional.empty(), warning("max,-pni", true));
    }

    @Test
    void aNamedModelIsOneShortLine() {
        String w = warning("Westmere", false).orElseThrow();
        assertEquals("warning: this host's KVM gives the guest its own CPUID flags, not Westmere's (details: -d cpuid)", w);
        assertTrue(("jkvm: " + w).length() <= 120, w);
    }

    @Test
    void onlyTheSettingsKvmOverrodeAreNamed() {
        // pni: switched off, KVM shows it; sse2: off, shown; +vme: jkvm could not set it, KVM shows it (fine);
        // ssse3=on: jkvm had no such bit to set (QEMU's warning said so): not named.
        assertEquals("warning: this host's KVM gives the guest its own CPUID flags: -pni has no effect (details: -d cpuid)",
                warning("qemu64,-pni", false).orElseThrow());
        assertEquals(Optional.empty(), warning("qemu64,+vme,ssse3=on", false));
        assertEquals("warning: this host's KVM gives the guest its own CPUID flags: sse2=off, -pni have no effect"
                + " (details: -d cpuid)", warning("qemu64,-pni,sse2=off", false).orElseThrow());
    }

    @Test
    void aSetBitKvmHidesIsNamed() {
        List<CpuidEntry> hidden = List.of(new CpuidEntry(1, 0, 0, 0x663, 0, 0x80202000, 0x078bfbfd & ~(1 << 25)));
        Optional<String> w = CpuidReadback.compare(SET, hidden).warning(CpuOption.parse("qemu64,+sse"), false, true, TABLE);
        assertEquals("warning: this host's KVM gives the guest its own CPUID flags: +sse has no effect (details: -d cpuid)",
                w.orElseThrow());
    }

    @Test
    void manySettingsStayOneLine() {
        String w = warning("Westmere,-pni,-vme,-ss,-ht,-pclmulqdq", false).orElseThrow();
        assertTrue(w.contains(": -pni, -vme, -ss and 2 more have no effect"), w);
    }

    @Test
    void detailsNameTheBitsPerWord() {
        List<String> d = CpuidReadback.compare(SET, HELD).details(TABLE);
        assertEquals(2, d.size(), d.toString());
        assertTrue(d.get(0).startsWith("cpuid: CPUID.01H:ECX set 80202000, KVM holds f6f83203: added [pni pclmulqdq"),
                d.get(0));
        assertEquals("cpuid: CPUID.01H:EDX set 078bfbfd, KVM holds 1f8bfbff: added [vme ss ht], removed []", d.get(1));
    }
}
