package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Compares the feature words jkvm gave {@code KVM_SET_CPUID2} with what KVM then holds
 * ({@code KVM_GET_CPUID2}). Stock KVM keeps them; some hosts do not (kvm_pvm replaces them with
 * the host's), and then no {@code -cpu} model or {@code -feat} can hide a feature from the guest.
 * jkvm says so in one line, and only about what the user asked for ({@link #warning}); the
 * register values are for {@code -d cpuid} ({@link #details}).
 *
 * <pre>{@code
 * CpuidReadback r = CpuidReadback.compare(plan.entriesFor(0), vcpu.cpuid());
 * r.warning(option, CpuFeatureTable.standard()).ifPresent(System.err::println);
 * }</pre>
 *
 * @param changes the feature words KVM holds differently, in CPUID order; empty when it kept them all
 */
public record CpuidReadback(List<Change> changes) {

    /** The registers that carry feature flags and that a guest reads: 1:ECX/EDX, 7.0:EBX/ECX/EDX, 80000001H:ECX/EDX. */
    private static final List<FeatureWord> WORDS = List.of(FeatureWord.LEAF1_ECX, FeatureWord.LEAF1_EDX,
            FeatureWord.LEAF7_0_EBX, FeatureWord.LEAF7_0_ECX, FeatureWord.LEAF7_0_EDX, FeatureWord.EXT1_ECX,
            FeatureWord.EXT1_EDX);

    /** At most this many features are named in the warning: it stays one short line. */
    private static final int NAMED_IN_WARNING = 3;

    /** One feature word as jkvm set it and as KVM holds it. */
    public record Change(FeatureWord word, int set, int held) {

        /** Bits KVM shows the guest that jkvm did not set. */
        public int added() {
            return held & ~set;
        }

        /** Bits jkvm set that KVM does not show. */
        public int removed() {
            return set & ~held;
        }
    }

    public CpuidReadback {
        changes = List.copyOf(changes);
    }

    /** The comparison of what was set with what KVM holds (a word missing from either side is not compared). */
    public static CpuidReadback compare(List<CpuidEntry> set, List<CpuidEntry> held) {
        List<Change> changed = new ArrayList<>();
        for (FeatureWord w : WORDS) {
            long a = word(set, w);
            long b = word(held, w);
            if (a >= 0 && b >= 0 && a != b) {
                changed.add(new Change(w, (int) a, (int) b));
            }
        }
        return new CpuidReadback(changed);
    }

    /** Whether KVM kept every feature word as jkvm set it. */
    public boolean honoured() {
        return changes.isEmpty();
    }

    /**
     * The one line for the user, or empty when what KVM did contradicts nothing the user asked
     * for: nothing for {@code host}/{@code max} (the guest gets the host's features, as asked) or
     * for the default model given no features; otherwise the model the guest does not really run
     * ({@code defaultModel} false), and the {@code +feat}/{@code -feat}/{@code feat=on|off} that
     * KVM overrode.
     *
     * @param defaultModel whether the model is the one a machine gets without {@code -cpu}
     */
    public Optional<String> warning(CpuOption option, boolean fromHost, boolean defaultModel, CpuFeatureTable table) {
        if (honoured() || fromHost) {
            return Optional.empty();
        }
        List<String> ignored = ignoredSettings(option, table);
        if (ignored.isEmpty() && defaultModel) {
            return Optional.empty();
        }
        StringBuilder s = new StringBuilder("warning: this host's KVM gives the guest its own CPUID flags");
        if (!defaultModel) {
            s.append(", not ").append(option.model()).append("'s");
        }
        if (!ignored.isEmpty()) {
            List<String> named = ignored.subList(0, Math.min(NAMED_IN_WARNING, ignored.size()));
            s.append(": ").append(String.join(", ", named));
            if (ignored.size() > named.size()) {
                s.append(" and ").append(ignored.size() - named.size()).append(" more");
            }
            s.append(ignored.size() == 1 ? " has" : " have").append(" no effect");
        }
        return Optional.of(s.append(" (details: -d cpuid)").toString());
    }

    /**
     * The user's feature settings the guest does not get: a feature switched off that KVM shows
     * anyway, or one jkvm set that KVM hides. (One jkvm could not set has had QEMU's warning.)
     */
    private List<String> ignoredSettings(CpuOption option, CpuFeatureTable table) {
        List<String> out = new ArrayList<>();
        for (CpuOption.Assignment a : option.assignments()) {
            check(table, a.feature(), a.on(), a.feature() + "=" + (a.on() ? "on" : "off"), out);
        }
        option.plus().forEach(name -> check(table, name, true, "+" + name, out));
        option.minus().forEach(name -> check(table, name, false, "-" + name, out));
        return out;
    }

    private void check(CpuFeatureTable table, String name, boolean on, String spelled, List<String> out) {
        for (CpuFeature f : table.lookup(name)) {
            for (Change c : changes) {
                if (!c.word().equals(f.word())) {
                    continue;
                }
                boolean wasSet = (c.set() & f.mask()) != 0;
                boolean shown = (c.held() & f.mask()) != 0;
                if (on ? wasSet && !shown : shown) {
                    if (!out.contains(spelled)) {
                        out.add(spelled);
                    }
                }
            }
        }
    }

    /** {@code -d cpuid}: one line per word KVM changed, with the bits it added and removed by name. */
    public List<String> details(CpuFeatureTable table) {
        if (honoured()) {
            return List.of("cpuid: KVM holds the feature words jkvm set");
        }
        List<String> out = new ArrayList<>();
        for (Change c : changes) {
            out.add(String.format(Locale.ROOT, "cpuid: %s set %08x, KVM holds %08x: added [%s], removed [%s]",
                    c.word().description(), c.set(), c.held(), names(table, c.word(), c.added()),
                    names(table, c.word(), c.removed())));
        }
        return out;
    }

    private static String names(CpuFeatureTable table, FeatureWord word, int bits) {
        List<String> out = new ArrayList<>();
        for (int bit = 0; bit < 32; bit++) {
            if ((bits & 1 << bit) != 0) {
                int b = bit;
                out.add(table.named(word, bit).map(CpuFeature::name).orElseGet(() -> "bit " + b));
            }
        }
        return String.join(" ", out);
    }

    private static long word(List<CpuidEntry> entries, FeatureWord w) {
        for (CpuidEntry e : entries) {
            if (e.function() == w.leaf() && e.index() == Math.max(w.subleaf(), 0)) {
                int v = switch (w.register()) {
                    case EAX -> e.eax();
                    case EBX -> e.ebx();
                    case ECX -> e.ecx();
                    case EDX -> e.edx();
                };
                return Integer.toUnsignedLong(v);
            }
        }
        return -1;
    }
}
