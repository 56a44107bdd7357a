package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.SortedSet;

/**
 * Reads a CPUID table back: the flags as {@code /proc/cpuinfo} would list them, and the
 * identity. For tests ("Westmere has aes and not avx") and {@code info cpus}-style output.
 * Bits Linux does not list by name are given QEMU's name (e.g. {@code kvmclock}, {@code invtsc}).
 *
 * <pre>{@code
 * CpuidDecoder d = new CpuidDecoder(plan.entriesFor(0));
 * d.flags().contains("aes");
 * d.vendor();    // "GenuineIntel"
 * }</pre>
 */
public final class CpuidDecoder {

    private final List<CpuidEntry> entries;
    private final CpuFeatureTable table;

    public CpuidDecoder(List<CpuidEntry> entries) {
        this(entries, CpuFeatureTable.standard());
    }

    public CpuidDecoder(List<CpuidEntry> entries, CpuFeatureTable table) {
        this.entries = List.copyOf(entries);
        this.table = table;
    }

    /** Every named flag set in the table, sorted. */
    public SortedSet<String> flags() {
        SortedSet<String> flags = new TreeSet<>();
        for (CpuFeature f : table.all()) {
            if ((value(f.word()) & f.mask()) != 0) {
                flags.add(f.flagName());
            }
        }
        return flags;
    }

    /** The value of {@code word}, 0 when the table lacks the leaf. */
    public int value(FeatureWord word) {
        return find(word.leaf(), Math.max(word.subleaf(), 0)).map(word.register()::of).orElse(0);
    }

    /** The entry for {@code leaf}.{@code subleaf} (the index counts only where the entry says so). */
    public Optional<CpuidEntry> find(int leaf, int subleaf) {
        for (CpuidEntry e : entries) {
            if (e.function() == leaf
                    && ((e.flags() & CpuidBuilder.SIGNIFICANT_INDEX) == 0 || e.index() == subleaf)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** The vendor string of leaf 0. */
    public String vendor() {
        return find(0, 0).map(e -> HostCpuid.ascii(e.ebx(), e.edx(), e.ecx())).orElse("");
    }

    /** The family, as /proc/cpuinfo's "cpu family". */
    public int family() {
        return CpuSignature.family(signature());
    }

    /** The model, as /proc/cpuinfo's "model". */
    public int model() {
        return CpuSignature.model(signature());
    }

    /** The stepping. */
    public int stepping() {
        return CpuSignature.stepping(signature());
    }

    /** The brand string (leaves 0x80000002..4). */
    public String brand() {
        StringBuilder s = new StringBuilder();
        for (int leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
            find(leaf, 0).ifPresent(e -> s.append(HostCpuid.ascii(e.eax(), e.ebx(), e.ecx(), e.edx())));
        }
        int end = s.indexOf("\0");
        return end < 0 ? s.toString() : s.substring(0, end);
    }

    private int signature() {
        return find(1, 0).map(CpuidEntry::eax).orElse(0);
    }
}
