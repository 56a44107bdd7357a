package dev.jkvm.vmm.qmp;

import dev.jkvm.kvm.KvmStats;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.Main;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SharedKvm;
import dev.jkvm.vmm.cpu.CpuModel;
import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.cpu.CpuOption;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.PageWalker;
import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.qmp.Arguments.Param;
import dev.jkvm.vmm.qmp.Arguments.Type;
import dev.jkvm.vmm.snapshot.Snapshot;
import dev.jkvm.vmm.stats.VcpuReport;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QMP's commands over one {@link Machine}, each with QEMU's parameters and reply schema (the keys
 * in the order QEMU 7.2 writes them). {@code qmp_capabilities} belongs to the session.
 *
 * <pre>{@code
 * QmpCommands c = new QmpCommands(machine, new Monitor(machine));
 * Object reply = c.execute("query-status", Map.of());   // {status=running, singlestep=false, running=true}
 * }</pre>
 */
final class QmpCommands {

    /** One command: its parameters (checked before the handler runs) and what it does. */
    record Command(String name, List<Param> params, Function<Arguments, Object> handler) {
    }

    /** A result whose action runs once its reply is queued (QEMU answers {@code quit} before its SHUTDOWN event). */
    record AfterReply(Object result, Runnable action) {
    }

    private static final Map<String, Object> EMPTY = Collections.unmodifiableMap(new LinkedHashMap<>());
    private static final int SAVE_CHUNK = 4096;
    private static final Pattern MISSING_FEATURE = Pattern.compile("feature: CPUID\\.[0-9A-F]+H(?:\\.[0-9A-F]+H)?:E[ABCD]X\\.(\\S+) \\[bit");

    private final Machine machine;
    private final Monitor monitor;
    private final Map<String, Command> commands = new LinkedHashMap<>();
    private List<Object> cpuDefinitions;
    /** The last migration's query-migrate answer; null before any. */
    private volatile Map<String, Object> migration;
    /** Whether the vCPUs stand still because a migration completed (QEMU's postmigrate), until cont. */
    private volatile boolean migrated;

    QmpCommands(Machine machine, Monitor monitor) {
        this.machine = machine;
        this.monitor = monitor;
        add("qmp_capabilities", List.of(Param.optional("enable", Type.LIST)), a -> {
            throw new IllegalStateException("the session answers qmp_capabilities");
        });
        add("query-commands", List.of(), a -> queryCommands());
        add("query-version", List.of(), a -> queryVersion());
        add("query-status", List.of(), a -> queryStatus());
        add("query-name", List.of(), a -> machine.config().name().<Object>map(n -> map("name", n)).orElse(EMPTY));
        add("query-kvm", List.of(), a -> map("enabled", true, "present", true));
        add("query-target", List.of(), a -> map("arch", "x86_64"));
        add("query-current-machine", List.of(), a -> map("wakeup-suspend-support", machine.config().s3()));
        add("query-uuid", List.of(), a -> map("UUID", "00000000-0000-0000-0000-000000000000")); // jkvm has no -uuid
        add("query-cpus-fast", List.of(), a -> queryCpusFast());
        add("query-hotpluggable-cpus", List.of(), a -> queryHotpluggableCpus());
        add("query-memory-size-summary", List.of(), a -> map("base-memory", machine.config().memoryBytes(), "plugged-memory", 0L));
        add("query-machines", List.of(), a -> queryMachines());
        add("query-cpu-definitions", List.of(), a -> queryCpuDefinitions());
        add("query-stats", List.of(Param.requiredEnum("target", "vm", "vcpu"), Param.optional("providers", Type.LIST),
                Param.optional("vcpus", Type.LIST)), this::queryStats);
        add("query-stats-schemas", List.of(Param.optional("provider", Type.STR)), a -> queryStatsSchemas());
        add("stop", List.of(), a -> {
            if (!machine.pause()) {
                throw QmpError.generic("not every vCPU stopped in time");
            }
            return EMPTY;
        });
        add("cont", List.of(), a -> {
            migrated = false;
            machine.resume();
            return EMPTY;
        });
        add("system_reset", List.of(), a -> {
            machine.systemReset();
            return EMPTY;
        });
        add("system_powerdown", List.of(), a -> {
            machine.powerdown();
            return EMPTY;
        });
        add("system_wakeup", List.of(), a -> {
            if (!machine.suspended()) {
                throw QmpError.generic("Unable to wake up: guest is not in suspended state");
            }
            machine.wakeup();
            return EMPTY;
        });
        add("quit", List.of(), a -> new AfterReply(EMPTY, () -> machine.stop(RunResult.of(RunResult.Reason.QUIT, 0, "quit from QMP"))));
        add("human-monitor-command", List.of(Param.required("command-line", Type.STR), Param.optional("cpu-index", Type.INT)),
                a -> {
                    a.optionalInteger("cpu-index").ifPresent(this::vcpu);
                    return monitor.execute(a.string("command-line")).replace("\n", "\r\n");
                });
        List<Param> save = List.of(Param.required("val", Type.INT), Param.required("size", Type.INT),
                Param.required("filename", Type.STR));
        List<Param> memsave = new ArrayList<>(save);
        memsave.add(Param.optional("cpu-index", Type.INT));
        add("memsave", memsave, a -> save(a, true));
        add("pmemsave", save, a -> save(a, false));
        add("migrate", List.of(Param.required("uri", Type.STR), Param.optional("blk", Type.BOOL), Param.optional("inc", Type.BOOL),
                Param.optional("detach", Type.BOOL), Param.optional("resume", Type.BOOL)), this::migrate);
        add("query-migrate", List.of(), a -> migration == null ? EMPTY : migration);
        add("inject-nmi", List.of(), a -> {
            for (Vcpu v : machine.vcpus()) {
                v.call(fd -> {
                    fd.nmi();
                    return null;
                }, Machine.VCPU_ANSWER_TIMEOUT);
            }
            return EMPTY;
        });
    }

    private void add(String name, List<Param> params, Function<Arguments, Object> handler) {
        commands.put(name, new Command(name, params, handler));
    }

    /** The command called {@code name}, or null. */
    Command find(String name) {
        return commands.get(name);
    }

    /** Checks the arguments and runs the command; a {@link QmpError} is the error reply. */
    Object execute(String name, Map<String, Object> args) {
        Command c = commands.get(name);
        if (c == null) {
            throw new QmpError(QmpError.ErrorClass.CommandNotFound, "The command " + name + " has not been found");
        }
        return c.handler().apply(Arguments.check(args, c.params()));
    }

    /** {@code key, value, key, value...} as a map in that order. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private List<Object> queryCommands() {
        List<Object> out = new ArrayList<>();
        commands.keySet().forEach(n -> out.add(map("name", n)));
        return out;
    }

    /** jkvm's own version in QEMU's shape: {@code 0.1.0-SNAPSHOT} is major 0, minor 1, micro 0. */
    static Map<String, Object> version() {
        String v = Main.version();
        long[] parts = new long[3];
        Matcher m = Pattern.compile("^(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?").matcher(v);
        if (m.find()) {
            for (int i = 0; i < 3; i++) {
                parts[i] = m.group(i + 1) == null ? 0 : Long.parseLong(m.group(i + 1));
            }
        }
        return map("qemu", map("micro", parts[2], "minor", parts[1], "major", parts[0]), "package", "jkvm " + v);
    }

    private Object queryVersion() {
        return version();
    }

    /** QEMU's RunState for this machine. */
    String runState() {
        if (machine.ended()) {
            return "shutdown";
        }
        if (machine.suspended()) {
            return "suspended";
        }
        if (machine.paused()) {
            return migrated ? "postmigrate" : machine.launched() ? "paused" : "prelaunch";
        }
        return "running";
    }

    private Object queryStatus() {
        String state = runState();
        return map("status", state, "singlestep", false, "running", state.equals("running"));
    }

    private Vcpu vcpu(long index) {
        List<Vcpu> vcpus = machine.vcpus();
        if (index < 0 || index >= vcpus.size()) {
            throw QmpError.generic("Parameter 'cpu-index' expects a CPU number");
        }
        return vcpus.get((int) index);
    }

    /** QEMU's QOM path of CPU {@code i} on the pc machine: device[0] for the first, then one further on. */
    static String qomPath(int i) {
        return "/machine/unattached/device[" + (i == 0 ? 0 : i + 1) + "]";
    }

    private Map<String, Object> props(int i) {
        Topology t = machine.config().topology();
        Map<String, Object> p = map("core-id", (long) t.coreOf(i), "thread-id", (long) t.threadOf(i));
        if (t.dies() > 1) {
            p.put("die-id", (long) t.dieOf(i));
        }
        p.put("socket-id", (long) t.packageOf(i));
        return p;
    }

    private Object queryCpusFast() {
        List<Object> out = new ArrayList<>();
        for (Vcpu v : machine.vcpus()) {
            out.add(map("thread-id", (long) v.tid(), "props", props(v.index()), "qom-path", qomPath(v.index()),
                    "cpu-index", (long) v.index(), "target", "x86_64"));
        }
        return out;
    }

    private String cpuType() {
        return CpuOption.parse(machine.config().cpu()).model() + "-x86_64-cpu";
    }

    private Object queryHotpluggableCpus() {
        Topology t = machine.config().topology();
        List<Object> out = new ArrayList<>();
        for (int i = t.maxCpus() - 1; i >= 0; i--) { // QEMU lists the last possible CPU first
            Map<String, Object> e = map("props", props(i), "vcpus-count", 1L);
            if (i < t.cpus()) {
                e.put("qom-path", qomPath(i));
            }
            e.put("type", cpuType());
            out.add(e);
        }
        return out;
    }

    private Object queryMachines() {
        return List.of(map("hotpluggable-cpus", false, "name", "pc", "numa-mem-supported", false,
                "default-cpu-type", CpuOption.DEFAULT_MODEL + "-x86_64-cpu", "is-default", true, "cpu-max", 255L,
                "deprecated", false, "default-ram-id", "pc.ram"));
    }

    private synchronized Object queryCpuDefinitions() {
        if (cpuDefinitions == null) {
            List<Object> out = new ArrayList<>();
            CpuModels models = machine.config().cpuModels();
            for (CpuModel m : models.all()) {
                out.add(definition(m.name(), m.kind(), null));
            }
            // The further names (Westmere for Westmere-v1, Westmere-IBRS for -v2), as QEMU lists them.
            models.aliases().forEach((name, alias) -> models.find(alias.target())
                    .ifPresent(m -> out.add(definition(name, m.kind(), alias.target()))));
            cpuDefinitions = Collections.unmodifiableList(out);
        }
        return cpuDefinitions;
    }

    private Map<String, Object> definition(String name, CpuModel.Kind kind, String aliasOf) {
        boolean host = kind.fromHost();
        Map<String, Object> d = map("name", name, "typename", name + "-x86_64-cpu", "unavailable-features",
                host ? List.of() : unavailable(name), "static", name.equals("base"), "migration-safe", !host,
                "deprecated", false);
        if (aliasOf != null) {
            d.put("alias-of", aliasOf);
        }
        return d;
    }

    /** The features of model {@code name} this host's KVM cannot give (what -cpu NAME warns of). */
    private List<Object> unavailable(String name) {
        try {
            CpuidPlan plan = CpuidPlan.create(CpuOption.parse(name), machine.config().cpuModels(), Topology.SINGLE,
                    SharedKvm.get().supportedCpuid());
            List<Object> out = new ArrayList<>();
            for (String w : plan.warnings()) {
                Matcher mm = MISSING_FEATURE.matcher(w);
                if (mm.find()) {
                    out.add(mm.group(1));
                }
            }
            return out;
        } catch (RuntimeException e) {
            return List.of("kvm"); // a model this host cannot build at all
        }
    }

    private Object save(Arguments a, boolean virtual) {
        long addr = a.integer("val");
        long size = a.integer("size");
        Path file = Path.of(a.string("filename"));
        Vcpu cpu = virtual ? vcpu(a.optionalInteger("cpu-index").orElse(0L)) : null;
        // One walker for the whole range: the vCPU's registers asked once, not once per chunk.
        PageWalker walker = virtual ? machine.guest().walker(cpu.index()) : null;
        // Outside long mode a linear address has 32 bits: beyond them nothing is there (QEMU refuses it too).
        boolean longMode = virtual && (walker.mode() == PageWalker.Mode.FOUR_LEVEL || walker.mode() == PageWalker.Mode.FIVE_LEVEL);
        if (virtual && !longMode && (addr < 0 || size > 0 && (addr > 0xffff_ffffL || size - 1 > 0xffff_ffffL - addr))) {
            throw QmpError.generic(String.format("Invalid addr 0x%016x/size %d specified", addr, size));
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            long done = 0;
            while (done < size) {
                int n = (int) Math.min(SAVE_CHUNK - ((addr + done) & (SAVE_CHUNK - 1)), size - done);
                byte[] chunk;
                if (virtual) {
                    try {
                        chunk = machine.guest().readVirtual(walker, addr + done, n);
                    } catch (IllegalArgumentException e) {
                        throw QmpError.generic(String.format("Invalid addr 0x%016x/size %d specified", addr, size));
                    }
                } else {
                    chunk = physical(addr + done, n);
                }
                out.write(chunk);
                done += n;
            }
        } catch (IOException e) {
            throw QmpError.generic("Could not open '" + file + "': " + ioReason(e));
        }
        return EMPTY;
    }

    /** Guest-physical bytes; where nothing is mapped a PC reads all ones, as QEMU's pmemsave writes them. */
    private byte[] physical(long gpa, int n) {
        try {
            return machine.readPhysical(gpa, n);
        } catch (RuntimeException e) {
            byte[] ones = new byte[n];
            Arrays.fill(ones, (byte) 0xff);
            return ones;
        }
    }

    private static String ioReason(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "No such file or directory";
            case AccessDeniedException x -> "Permission denied";
            case FileSystemException x when x.getReason() != null -> x.getReason();
            default -> String.valueOf(e.getMessage());
        };
    }

    /**
     * {@code migrate "file:PATH"}: the machine's snapshot into a file (jkvm's snapshot format,
     * {@code Snapshot.load} and {@code Machine.create(config, snapshot)} go on from it). As a
     * QEMU source does, the machine stays stopped afterwards ({@code postmigrate}) until {@code cont}.
     */
    private Object migrate(Arguments a) {
        String uri = a.string("uri");
        if (!uri.startsWith("file:") || uri.length() == 5) {
            throw QmpError.generic("Parameter 'uri' expects a valid migration protocol (jkvm has file:PATH)");
        }
        if (a.has("blk") || a.has("inc")) {
            throw QmpError.generic("jkvm has no block devices to migrate");
        }
        long t0 = System.nanoTime();
        try {
            if (!machine.pause()) {
                throw QmpError.generic("not every vCPU stopped in time");
            }
            long stopped = System.nanoTime();
            Snapshot snap = machine.snapshot();
            long bytes = snap.save(Path.of(uri.substring(5)));
            long end = System.nanoTime();
            migrated = true;
            long total = machine.config().memoryBytes();
            migration = map("status", "completed", "setup-time", 0L, "downtime", (end - stopped) / 1_000_000,
                    "total-time", (end - t0) / 1_000_000, "ram", map("transferred", bytes, "remaining", 0L, "total", total,
                            "page-size", 4096L));
        } catch (QmpError e) {
            migration = map("status", "failed", "error-desc", e.getMessage());
            throw e;
        } catch (RuntimeException e) {
            migration = map("status", "failed", "error-desc", String.valueOf(e.getMessage()));
            throw QmpError.generic(String.valueOf(e.getMessage()));
        }
        return EMPTY;
    }

    private Object queryStats(Arguments a) {
        String target = a.string("target");
        boolean kvm = true;
        boolean jkvm = true;
        Set<String> kvmNames = null;
        Set<String> jkvmNames = null;
        if (a.has("providers")) {
            kvm = false;
            jkvm = false;
            for (Object o : a.optionalList("providers").orElseThrow()) {
                if (!(o instanceof Map<?, ?> p)) {
                    throw QmpError.generic("Invalid parameter type for 'providers[0]', expected: object");
                }
                Object provider = p.get("provider");
                if (!(provider instanceof String)) {
                    throw QmpError.generic("Parameter 'provider' is missing");
                }
                Set<String> names = null;
                if (p.get("names") instanceof List<?> l) {
                    names = new HashSet<>();
                    for (Object n : l) {
                        names.add(String.valueOf(n));
                    }
                }
                switch ((String) provider) {
                    case "kvm" -> {
                        kvm = true;
                        kvmNames = names;
                    }
                    case "jkvm" -> {
                        jkvm = true;
                        jkvmNames = names;
                    }
                    default -> throw QmpError.generic("Parameter 'provider' does not accept value '" + provider + "'");
                }
            }
        }
        List<Object> out = new ArrayList<>();
        if (target.equals("vm")) {
            if (kvm) {
                KvmStats vm = machine.kvmVmStats();
                if (vm != null) {
                    out.add(map("provider", "kvm", "stats", kvmValues(vm, kvmNames)));
                }
            }
            return out;
        }
        Set<Object> wanted = a.has("vcpus") ? new HashSet<>(a.optionalList("vcpus").orElseThrow()) : null;
        List<VcpuReport> reports = jkvm ? machine.reports() : List.of();
        List<Vcpu> vcpus = new ArrayList<>(machine.vcpus());
        Collections.reverse(vcpus); // QEMU lists the last vCPU first
        for (Vcpu v : vcpus) {
            String path = qomPath(v.index());
            if (wanted != null && !wanted.contains(path)) {
                continue;
            }
            if (kvm) {
                KvmStats st = machine.kvmStats(v.index());
                if (st != null) {
                    out.add(map("provider", "kvm", "stats", kvmValues(st, kvmNames), "qom-path", path));
                }
            }
            if (jkvm && v.index() < reports.size()) {
                out.add(map("provider", "jkvm", "stats", jkvmValues(reports.get(v.index()), jkvmNames), "qom-path", path));
            }
        }
        return out;
    }

    /** KVM's counters as QEMU gives them: last descriptor first, booleans as booleans, histograms as lists. */
    private static List<Object> kvmValues(KvmStats st, Set<String> names) {
        List<Object> out = new ArrayList<>();
        synchronized (st) {
            try {
                st.refresh();
            } catch (RuntimeException e) {
                return out; // the power-on ended meanwhile
            }
            List<KvmStats.Descriptor> ds = st.descriptors();
            for (int i = ds.size() - 1; i >= 0; i--) {
                KvmStats.Descriptor d = ds.get(i);
                if (names != null && !names.contains(d.name())) {
                    continue;
                }
                long[] v = st.values(d);
                Object value = switch (d.type()) {
                    case KvmConstants.KVM_STATS_TYPE_LINEAR_HIST, KvmConstants.KVM_STATS_TYPE_LOG_HIST -> v;
                    default -> d.unit() == KvmConstants.KVM_STATS_UNIT_BOOLEAN ? (Object) (v[0] != 0) : (Object) v[0];
                };
                out.add(map("name", d.name(), "value", value));
            }
        }
        return out;
    }

    /** jkvm's own three-mode counters of one vCPU, in query-stats' shape. */
    private static List<Object> jkvmValues(VcpuReport r, Set<String> names) {
        Map<String, Long> all = new LinkedHashMap<>();
        all.put("user_exits", r.user().total());
        all.put("kernel_exits", r.kernelModeExits());
        all.put("kvm_run_ns", r.user().nanosInKvmRun());
        all.put("outside_kvm_run_ns", r.user().nanosOutside());
        all.put("kicks", r.user().interruptions());
        r.user().reasons().forEach(br -> all.put("user_exits_" + br.name().toLowerCase(Locale.ROOT), br.count()));
        if (r.times() != null) {
            all.put("thread_user_ns", r.times().userNanos());
            all.put("thread_system_ns", r.times().systemNanos());
            all.put("thread_guest_ns", r.times().guestNanos());
        }
        List<Object> out = new ArrayList<>();
        all.forEach((n, v) -> {
            if (names == null || names.contains(n)) {
                out.add(map("name", n, "value", v));
            }
        });
        return out;
    }

    private Object queryStatsSchemas() {
        List<Object> out = new ArrayList<>();
        KvmStats vcpu = machine.kvmStats(0);
        if (vcpu != null) {
            out.add(map("provider", "kvm", "stats", schema(vcpu), "target", "vcpu"));
        }
        KvmStats vm = machine.kvmVmStats();
        if (vm != null) {
            out.add(map("provider", "kvm", "stats", schema(vm), "target", "vm"));
        }
        return out;
    }

    private static List<Object> schema(KvmStats st) {
        List<Object> out = new ArrayList<>();
        List<KvmStats.Descriptor> ds = st.descriptors();
        for (int i = ds.size() - 1; i >= 0; i--) {
            KvmStats.Descriptor d = ds.get(i);
            Map<String, Object> e = map("name", d.name());
            String unit = switch (d.unit()) {
                case KvmConstants.KVM_STATS_UNIT_BYTES -> "bytes";
                case KvmConstants.KVM_STATS_UNIT_SECONDS -> "seconds";
                case KvmConstants.KVM_STATS_UNIT_CYCLES -> "cycles";
                case KvmConstants.KVM_STATS_UNIT_BOOLEAN -> "boolean";
                default -> null;
            };
            if (unit != null) {
                e.put("unit", unit);
            }
            if (d.exponent() != 0) {
                e.put("base", (d.flags() & KvmConstants.KVM_STATS_BASE_MASK) == KvmConstants.KVM_STATS_BASE_POW2 ? 2L : 10L);
            }
            e.put("exponent", (long) d.exponent());
            e.put("type", switch (d.type()) {
                case KvmConstants.KVM_STATS_TYPE_INSTANT -> "instant";
                case KvmConstants.KVM_STATS_TYPE_PEAK -> "peak";
                case KvmConstants.KVM_STATS_TYPE_LINEAR_HIST -> "linear-histogram";
                case KvmConstants.KVM_STATS_TYPE_LOG_HIST -> "log2-histogram";
                default -> "cumulative";
            });
            out.add(e);
        }
        return out;
    }
}
