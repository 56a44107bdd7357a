package dev.jkvm.vmm.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A parsed {@code -cpu NAME[,+feat][,-feat][,feat=on|off][,enforce][,check][,kvm=off][,prop=value]}.
 * Feature names are checked against {@link CpuFeatureTable}; the model name is checked when the
 * registry is known ({@link #parse(String, CpuModels)} or {@link CpuModels#require(String)}).
 *
 * <pre>{@code
 * CpuOption o = CpuOption.parse("Nehalem,-sse4.2,+aes,enforce");
 * o.model();     // "Nehalem"
 * o.enforce();   // true
 * }</pre>
 *
 * <p>As in QEMU, {@code +feat}/{@code -feat} win over {@code feat=on|off} whatever their order
 * ({@code -x2apic,x2apic=on} leaves x2apic off), and among themselves a {@code -} wins.
 * Besides feature flags the properties {@code vendor}, {@code model-id}, {@code family},
 * {@code model}, {@code stepping}, {@code level}, {@code xlevel}, {@code pmu}, {@code l3-cache},
 * {@code migratable}, {@code phys-bits}, {@code host-phys-bits} and {@code host-phys-bits-limit}
 * are understood, and QEMU's Hyper-V properties ({@code hv-*}, see {@link HypervProperties}).
 *
 * @param model the model name
 * @param assignments {@code feat=on|off} in command-line order
 * @param plus features named with {@code +}
 * @param minus features named with {@code -}
 * @param enforce refuse to start when the host lacks a requested feature
 * @param check warn about missing features (jkvm always does; kept for QEMU compatibility)
 * @param kvm expose the KVM paravirtual leaves ({@code kvm=off} hides them)
 * @param pmu pass the host's performance monitoring leaf 0xA (on by default only for host/max)
 * @param l3Cache report an L3 cache (QEMU's {@code l3-cache}, default on)
 * @param migratable for host/max, pass on only the bits QEMU can migrate (default on;
 *     {@code migratable=off} also passes invtsc)
 * @param physBits {@code phys-bits=N}: the guest's MAXPHYADDR (CPUID.80000008H:EAX[7:0]); empty
 *     for QEMU's default (40, or the host's with {@code host-phys-bits})
 * @param hostPhysBits {@code host-phys-bits}: the host's MAXPHYADDR; empty for the model's default
 *     (on for host and max)
 * @param hostPhysBitsLimit {@code host-phys-bits-limit=N}: at most N bits from the host (0: no limit)
 */
public record CpuOption(String model, List<Assignment> assignments, List<String> plus, List<String> minus,
        boolean enforce, boolean check, boolean kvm, Optional<Boolean> pmu, boolean l3Cache, boolean migratable,
        Optional<String> vendor, Optional<String> modelId, OptionalInt family, OptionalInt modelNumber,
        OptionalInt stepping, OptionalInt level, OptionalInt xlevel, OptionalInt physBits,
        Optional<Boolean> hostPhysBits, int hostPhysBitsLimit) {

    /** QEMU's default model for x86-64 machines. */
    public static final String DEFAULT_MODEL = "qemu64";

    /** {@code -cpu qemu64} with nothing else: what a machine gets without {@code -cpu}. */
    public static final CpuOption DEFAULT = parse(DEFAULT_MODEL);

    /** One {@code feat=on|off}. */
    public record Assignment(String feature, boolean on) {
    }

    public CpuOption {
        assignments = List.copyOf(assignments);
        plus = List.copyOf(plus);
        minus = List.copyOf(minus);
    }

    /** Whether {@code text} asks for the model list ({@code -cpu help} or {@code -cpu ?}). */
    public static boolean isHelp(String text) {
        return text.equals("help") || text.equals("?");
    }

    /** Parses {@code text} and checks that {@code models} has the model. */
    public static CpuOption parse(String text, CpuModels models) {
        CpuOption option = parse(text);
        models.require(option.model());
        return option;
    }

    /**
     * Parses {@code text}, checking feature and property names but not the model name.
     *
     * @throws CpuConfigException with a one-line reason, e.g. {@code Property 'nosuchflag' not found}
     */
    public static CpuOption parse(String text) {
        String[] parts = text.split(",", -1);
        String model = parts[0];
        if (model.isEmpty()) {
            throw new CpuConfigException("unable to find CPU model ''");
        }
        CpuFeatureTable table = CpuFeatureTable.standard();
        List<Assignment> assignments = new ArrayList<>();
        List<String> plus = new ArrayList<>();
        List<String> minus = new ArrayList<>();
        boolean enforce = false;
        boolean check = false;
        boolean kvm = true;
        boolean l3Cache = true;
        boolean migratable = true;
        Optional<Boolean> pmu = Optional.empty();
        Optional<String> vendor = Optional.empty();
        Optional<String> modelId = Optional.empty();
        OptionalInt family = OptionalInt.empty();
        OptionalInt modelNumber = OptionalInt.empty();
        OptionalInt stepping = OptionalInt.empty();
        OptionalInt level = OptionalInt.empty();
        OptionalInt xlevel = OptionalInt.empty();
        OptionalInt physBits = OptionalInt.empty();
        Optional<Boolean> hostPhysBits = Optional.empty();
        int hostPhysBitsLimit = 0;
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty()) {
                continue;
            }
            if (part.charAt(0) == '+' || part.charAt(0) == '-') {
                String name = part.substring(1);
                String hyperv = name.replace('_', '-');
                // the prefix first: HypervProperties stays unloaded (a class a run never loaded opens the jar)
                if (hyperv.startsWith("hv-") && HypervProperties.isHyperv(hyperv)) { // QEMU takes +hv_relaxed as hv-relaxed=on
                    HypervProperties.check(hyperv, part.charAt(0) == '+' ? "on" : "off");
                    continue;
                }
                requireFeature(table, name);
                (part.charAt(0) == '+' ? plus : minus).add(name);
                continue;
            }
            int eq = part.indexOf('=');
            String key = (eq < 0 ? part : part.substring(0, eq)).replace('_', '-');
            String value = eq < 0 ? "on" : part.substring(eq + 1);
            switch (key) {
                case "enforce" -> enforce = bool(key, value);
                case "check" -> check = bool(key, value);
                case "kvm" -> kvm = bool(key, value);
                case "pmu" -> pmu = Optional.of(bool(key, value));
                case "l3-cache" -> l3Cache = bool(key, value);
                case "migratable" -> migratable = bool(key, value);
                case "vendor" -> {
                    if (value.length() != 12) {
                        throw new CpuConfigException(
                                "value of property 'vendor' must consist of exactly 12 characters");
                    }
                    vendor = Optional.of(value);
                }
                case "model-id" -> {
                    if (value.length() > 48) {
                        throw new CpuConfigException("model-id is longer than 48 characters");
                    }
                    modelId = Optional.of(value);
                }
                case "family" -> family = OptionalInt.of(number(key, value, 0xff + 0xf));
                case "model" -> modelNumber = OptionalInt.of(number(key, value, 0xff));
                case "stepping" -> stepping = OptionalInt.of(number(key, value, 0xf));
                case "level" -> level = OptionalInt.of(number(key, value, 0xffffffffL));
                case "xlevel" -> xlevel = OptionalInt.of(number(key, value, 0xffffffffL));
                case "phys-bits" -> physBits = OptionalInt.of(number(key, value, 0xffffffffL));
                case "host-phys-bits" -> hostPhysBits = Optional.of(bool(key, value));
                case "host-phys-bits-limit" -> hostPhysBitsLimit = number(key, value, 0xff);
                default -> {
                    if (key.startsWith("hv-")) { // every Hyper-V property's prefix
                        HypervProperties.check(key, value);
                        continue;
                    }
                    requireFeature(table, key);
                    assignments.add(new Assignment(key, bool(key, value)));
                }
            }
        }
        return new CpuOption(model, assignments, plus, minus, enforce, check, kvm, pmu, l3Cache, migratable, vendor,
                modelId, family, modelNumber, stepping, level, xlevel, physBits, hostPhysBits, hostPhysBitsLimit);
    }

    /** The same option for another model (used for the machine default). */
    public CpuOption withModel(String name) {
        return new CpuOption(name, assignments, plus, minus, enforce, check, kvm, pmu, l3Cache, migratable, vendor,
                modelId, family, modelNumber, stepping, level, xlevel, physBits, hostPhysBits, hostPhysBitsLimit);
    }

    private static void requireFeature(CpuFeatureTable table, String name) {
        // a loop, not a stream: the lambda would be spun at run time (the AOT cache has the default model's paths)
        for (CpuFeature f : table.lookup(name)) {
            if (f.qemuNamed()) {
                return;
            }
        }
        throw new CpuConfigException("Property '" + name + "' not found");
    }

    static boolean bool(String key, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on", "yes", "true", "y" -> true;
            case "off", "no", "false", "n" -> false;
            default -> throw new CpuConfigException("Parameter '" + key + "' expects 'on' or 'off'");
        };
    }

    /**
     * A QemuOpts number: decimal, {@code 0x} hex or leading-zero octal ({@code -cpu}, {@code -smp}
     * and {@code [cpudef]} values). Here, in a class every run loads: a class the AOT cache's
     * training never loaded comes from the jar, and the first such read opens it (~10 ms).
     */
    static long parseCNumber(String text) {
        if (text.startsWith("0x") || text.startsWith("0X")) {
            return Long.parseLong(text.substring(2), 16);
        }
        if (text.length() > 1 && text.startsWith("0")) {
            return Long.parseLong(text.substring(1), 8);
        }
        return Long.parseLong(text);
    }

    private static int number(String key, String value, long max) {
        long n;
        try {
            n = parseCNumber(value.strip());
        } catch (NumberFormatException e) {
            throw new CpuConfigException("Parameter '" + key + "' expects a number");
        }
        if (n < 0 || n > max) {
            throw new CpuConfigException("parameter '" + key + "' can be at most " + max);
        }
        return (int) n;
    }
}
