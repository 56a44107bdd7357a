package dev.jkvm.vmm.cpu;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The text of {@code -cpu help}: the models as QEMU lists them ({@code x86 NAME  DESCRIPTION}),
 * those read from files marked with where they came from, then the recognised CPUID flags
 * wrapped as QEMU wraps them.
 *
 * <pre>{@code
 * System.out.print(CpuHelp.text(CpuModels.builtin().all(), CpuFeatureTable.standard()));
 * }</pre>
 */
final class CpuHelp {

    private static final int FLAG_LINE = 75;

    private CpuHelp() {
    }

    /** QEMU lists its base model, with no features, after the others. */
    static final String BASE_MODEL = "base";

    static String text(List<CpuModel> models, Map<String, CpudefParser.Alias> aliases,
            Map<String, String> notes, CpuFeatureTable table) {
        StringBuilder s = new StringBuilder("Available CPUs:\n");
        List<CpuModel> builtin = new ArrayList<>();
        List<CpuModel> fromHost = new ArrayList<>();
        List<CpuModel> fromFiles = new ArrayList<>();
        for (CpuModel m : models) {
            switch (m.kind()) {
                case BUILTIN -> builtin.add(m);
                case HOST, MAX -> fromHost.add(m);
                case FILE -> fromFiles.add(m);
            }
        }
        fromFiles.sort(Comparator.comparing(CpuModel::name));
        // Built-in models and aliases in one list sorted by name, as QEMU's (strcmp order), base last.
        TreeMap<String, String> named = new TreeMap<>();
        CpuModel base = null;
        for (CpuModel m : builtin) {
            if (m.name().equals(BASE_MODEL)) {
                base = m;
            } else {
                named.put(m.name(), notes.containsKey(m.name()) ? m.modelId() + " [" + notes.get(m.name()) + "]"
                        : m.modelId());
            }
        }
        aliases.forEach((name, a) -> named.put(name, a.byMachine() ? "(alias configured by machine type)"
                : "(alias of " + a.target() + ")"));
        named.forEach((name, description) -> line(s, name, description));
        if (base != null) {
            line(s, base.name(), "base CPU model type with no features enabled");
        }
        for (CpuModel m : fromHost) {
            line(s, m.name(), m.kind() == CpuModel.Kind.HOST ? "KVM processor with all supported host features"
                    : "Enables all features supported by the accelerator in the current host");
        }
        for (CpuModel m : fromFiles) {
            line(s, m.name(), m.modelId() + " (from " + m.origin() + ")");
        }
        s.append("\nRecognized CPUID flags:\n");
        int len = 0;
        for (String name : table.qemuNames()) {
            if (len + name.length() + 1 >= FLAG_LINE) {
                s.append('\n');
                len = 0;
            }
            s.append(len == 0 ? "  " : " ").append(name);
            len += name.length() + 1;
        }
        return s.append("\n\n").toString();
    }

    private static void line(StringBuilder s, String name, String description) {
        s.append(String.format("x86 %-20s  %s", name, description).stripTrailing()).append('\n');
    }
}
