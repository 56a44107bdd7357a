package dev.jkvm.bench;

import dev.jkvm.bench.report.Format;
import dev.jkvm.bench.report.Report;
import dev.jkvm.bench.report.ReportFiles;
import dev.jkvm.bench.report.Row;
import dev.jkvm.bench.report.Samples;
import dev.jkvm.bench.report.Series;
import dev.jkvm.bench.report.Table;
import dev.jkvm.bench.report.Target;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.MachineConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.DoubleSupplier;

/**
 * The benchmark harness behind {@code ./bench}: runs the C baseline and jkvm side by side,
 * alternating which goes first in every repetition, takes the median of the repetitions, and
 * prints the table (case, jkvm, baseline, jkvm/baseline, target, what jkvm allocated); writes
 * {@code results.json}, {@code ratios.svg} and {@code overcommit.svg} to the output directory.
 *
 * <pre>
 * java -cp ... dev.jkvm.bench.Bench [--quick] [--only exits,kernel,lifecycle,vcpus,stop,snapshot,e2e,alloc,guests,overcommit,jmh]
 *      [--reps N] [--out DIR] [--c PATH] [--jkvm PATH]
 * </pre>
 */
public final class Bench {

    static final List<String> GROUPS = List.of("exits", "kernel", "lifecycle", "vcpus", "stop", "snapshot", "e2e", "alloc", "trace",
            "guests", "overcommit", "jmh");

    /** The knobs of one invocation. */
    record Options(boolean quick, Set<String> only, int reps, int exitReps, Path out, Path cBinary, Path launcher) {

        /** Short runs, many of them, interleaved: on a noisy shared host both sides then see the same noise. */
        int exitIterations() {
            return quick ? 10_000 : 30_000;
        }

        int lifecycleCount() {
            return quick ? 30 : 100;
        }

        int vcpuCount() {
            return quick ? 3 : 10;
        }

        Duration overcommitInterval() {
            return quick ? Duration.ofMillis(500) : Duration.ofSeconds(2);
        }

        boolean wants(String group) {
            return only.isEmpty() || only.contains(group);
        }

        static Options parse(String... args) {
            boolean quick = false;
            Set<String> only = new TreeSet<>();
            int reps = -1;
            Path out = Path.of("benchmarks/target/bench");
            Path c = Path.of("benchmarks/target/bench-vmm");
            Path launcher = Path.of("jkvm");
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--quick" -> quick = true;
                    case "--only" -> {
                        for (String g : value(args, ++i, a).split(",")) {
                            if (!GROUPS.contains(g)) {
                                throw new JkvmException("--only " + g + ": unknown group (" + String.join(", ", GROUPS) + ")");
                            }
                            only.add(g);
                        }
                    }
                    case "--reps" -> reps = Integer.parseInt(value(args, ++i, a));
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    case "--c" -> c = Path.of(value(args, ++i, a));
                    case "--jkvm" -> launcher = Path.of(value(args, ++i, a));
                    default -> throw new JkvmException(a + ": unknown option (--quick, --only, --reps, --out, --c, --jkvm)");
                }
            }
            int exitReps = reps > 0 ? reps : quick ? 5 : 11;
            if (reps < 0) {
                reps = quick ? 3 : 5;
            }
            return new Options(quick, only, reps, exitReps, out, c, launcher.toAbsolutePath());
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new JkvmException(option + ": requires an argument");
            }
            return args[i];
        }
    }

    private final Options options;
    private final CBaseline c;
    private final Path roms;
    private final List<Row> rows = new ArrayList<>();
    private final List<Series> overcommit = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    Bench(Options options) {
        this.options = options;
        this.c = new CBaseline(options.cBinary());
        this.roms = options.out().resolve("roms");
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (JkvmException | NumberFormatException e) { // --reps N: N is the user's too
            System.err.println("bench: " + e.getMessage());
            System.exit(1);
            return;
        }
        try {
            new Bench(options).runAll();
        } catch (IllegalStateException | JkvmException e) {
            // A missing build, KVM or a guest that did not finish: one line, the trace on request.
            System.err.println("bench: " + e.getMessage());
            if (System.getenv("JKVM_DEBUG") != null) {
                e.printStackTrace(System.err);
            }
            System.exit(1);
        }
    }

    void runAll() throws Exception {
        Map<String, String> host = HostInfo.describe();
        host.put("mode", options.quick() ? "quick" : "full");
        host.put("repetitions", Integer.toString(options.reps()));
        host.forEach((k, v) -> System.out.println(k + ": " + v));
        System.out.println();
        Path exitsRom = BenchGuest.extract("bench-exits", roms);
        c.exits(exitsRom, BenchGuest.EMPTY_LOOP, 1, false); // asks KVM for the guest's TSC rate
        long tscKhz = c.tscKhz();
        host.put("guest TSC", tscKhz / 1000 + " MHz (KVM_GET_TSC_KHZ)");
        if (options.wants("exits")) {
            exits(exitsRom, tscKhz);
        }
        if (options.wants("kernel")) {
            inKernel(exitsRom);
        }
        if (options.wants("alloc")) {
            allocation(exitsRom);
        }
        if (options.wants("trace")) {
            exitTrace(exitsRom, tscKhz);
        }
        if (options.wants("lifecycle")) {
            lifecycle(exitsRom);
        }
        if (options.wants("vcpus")) {
            vcpus(exitsRom);
        }
        if (options.wants("stop")) {
            stopLatency();
        }
        if (options.wants("snapshot")) {
            snapshot(exitsRom);
        }
        if (options.wants("e2e")) {
            endToEnd();
        }
        if (options.wants("guests")) {
            manyGuests();
        }
        if (options.wants("overcommit")) {
            overcommit(BenchGuest.extract("bench-smp", roms));
        }
        if (options.wants("jmh")) {
            jmh();
        }
        host.put("load at end", HostInfo.read("/proc/loadavg"));
        Report.noiseFloor(rows).ifPresent(notes::add);
        Report report = new Report(host, rows, overcommit, "lock rounds/s", notes);
        System.out.println();
        System.out.print(Table.render(rows));
        if (!overcommit.isEmpty()) {
            System.out.println();
            System.out.print(Table.overcommit(overcommit));
        }
        notes.forEach(n -> System.out.println("note: " + n));
        ReportFiles.write(report, options.out(), options.reps(), System.out::println);
    }

    /** A progress line on stderr, so the table on stdout stays clean. */
    private static void progress(String s) {
        System.err.println("bench: " + s);
    }

    // ---- exits -------------------------------------------------------------------------------

    /** @param bindings run jkvm's side on {@link BindingsLoop} instead of a Machine */
    private record ExitCase(String name, int kase, boolean bindings) {
    }

    private void exits(Path rom, long tscKhz) {
        int n = options.exitIterations();
        int reps = options.exitReps();
        List<ExitCase> cases = List.of(
                new ExitCase("port out 0x99", BenchGuest.PORT_OUT, false),
                new ExitCase("port in 0x99", BenchGuest.PORT_IN, false),
                new ExitCase("mmio write 0xe0000000", BenchGuest.MMIO_WRITE, false),
                new ExitCase("mmio read 0xe0000000", BenchGuest.MMIO_READ, false),
                new ExitCase("hlt (jkvm: bindings loop)", BenchGuest.HLT, true),
                new ExitCase("port out, bindings loop", BenchGuest.PORT_OUT, true),
                new ExitCase("empty loop (no exit)", BenchGuest.EMPTY_LOOP, false));
        progress("exits: warming jkvm up");
        JkvmExits.run(rom, BenchGuest.PORT_OUT, 20_000, false);
        JkvmExits.run(rom, BenchGuest.MMIO_READ, 20_000, false);
        BindingsLoop.run(rom, BenchGuest.HLT, 5_000);
        double[][][] s = new double[cases.size()][3][reps];
        for (int rep = 0; rep < reps; rep++) {
            progress("exits: repetition " + (rep + 1) + " of " + reps + " (" + n + " iterations per run)");
            boolean cFirst = rep % 2 == 0;
            for (int i = 0; i < cases.size(); i++) {
                ExitCase ec = cases.get(i);
                double[][] v = s[i];
                int r = rep;
                pair(cFirst, () -> {
                    ExitRun run = ec.bindings() ? BindingsLoop.run(rom, ec.kase(), n) : JkvmExits.run(rom, ec.kase(), n, false);
                    v[0][r] = run.microsPerIteration(tscKhz);
                    v[2][r] = run.outsideNanosPerExit();
                }, () -> v[1][r] = c.exits(rom, ec.kase(), n, false).microsPerIteration(tscKhz));
            }
        }
        for (int i = 0; i < cases.size(); i++) {
            ExitCase ec = cases.get(i);
            boolean diagnostic = ec.kase() == BenchGuest.EMPTY_LOOP || ec.bindings() && ec.kase() != BenchGuest.HLT;
            String note = switch (ec.kase()) {
                case BenchGuest.EMPTY_LOOP -> "dec+jnz only, no exit: what the loop costs (KVM emulates guest code on this host)";
                case BenchGuest.HLT -> "a Machine ends its run at HLT without irqchip: jkvm side is kvm-bindings + GuestMemory in a Java loop";
                default -> ec.bindings() ? "FFM floor: the same exit with kvm-bindings alone, no Machine"
                        : String.format(Locale.ROOT, "Machine, irqchip off, 2 MiB; jkvm outside KVM_RUN %s ns/exit",
                                Format.number(Samples.median(s[i][2])));
            };
            rows.add(new Row("exits", ec.name(), "us/iter", samples(s[i][0]), samples(s[i][1]), "C",
                    diagnostic ? Target.NONE : Target.ratioAtMost(1.05), "", note));
        }
    }

    /** Runs the two sides in the order of this repetition. */
    private static void pair(boolean cFirst, Runnable jkvm, Runnable cSide) {
        if (cFirst) {
            cSide.run();
            jkvm.run();
        } else {
            jkvm.run();
            cSide.run();
        }
    }

    private static Samples samples(double[] values) {
        return Samples.of(values);
    }

    // ---- exits KVM handles itself ------------------------------------------------------------

    private void inKernel(Path rom) {
        int n = options.exitIterations();
        double[][] cpuid = new double[2][options.exitReps()];
        double[][] pit = new double[2][options.exitReps()];
        for (int rep = 0; rep < options.exitReps(); rep++) {
            progress("in-kernel exits: repetition " + (rep + 1) + " of " + options.exitReps());
            int r = rep;
            boolean cFirst = rep % 2 == 0;
            pair(cFirst,
                    () -> cpuid[0][r] = JkvmExits.run(rom, BenchGuest.CPUID, n, false).cyclesPerIteration(),
                    () -> cpuid[1][r] = c.exits(rom, BenchGuest.CPUID, n, false).cyclesPerIteration());
            pair(cFirst,
                    () -> pit[0][r] = JkvmExits.run(rom, BenchGuest.PIT_IN, n, true).cyclesPerIteration(),
                    () -> pit[1][r] = c.exits(rom, BenchGuest.PIT_IN, n, true).cyclesPerIteration());
        }
        rows.add(new Row("in-kernel", "cpuid leaf 0", "cycles/iter", samples(cpuid[0]), samples(cpuid[1]), "C",
                Target.NONE, "", "guest rdtsc; never reaches the VMM (irqchip off)"));
        rows.add(new Row("in-kernel", "in 0x40 (in-kernel PIT)", "cycles/iter", samples(pit[0]), samples(pit[1]), "C",
                Target.NONE, "", "guest rdtsc; irqchip and PIT in KVM"));
    }

    // ---- allocation -------------------------------------------------------------------------

    /** Bytes per exit on the vCPU thread (see {@link JkvmExits#allocation}), per exit case. */
    private void allocation(Path rom) {
        int n = options.quick() ? 60_000 : 150_000;
        progress("allocation: warming jkvm up (compiled code is what a long run executes)");
        for (int kase : new int[] {BenchGuest.PORT_OUT, BenchGuest.PORT_IN, BenchGuest.MMIO_WRITE, BenchGuest.MMIO_READ}) {
            JkvmExits.run(rom, kase, 30_000, false);
        }
        int[] cases = {BenchGuest.PORT_OUT, BenchGuest.PORT_IN, BenchGuest.MMIO_WRITE, BenchGuest.MMIO_READ};
        String[] names = {"port out 0x99", "port in 0x99", "mmio write 0xe0000000", "mmio read 0xe0000000"};
        for (int i = 0; i < cases.length; i++) {
            if (options.quick() && i > 1) {
                break;
            }
            progress("allocation: " + names[i] + ", " + n + " exits");
            JkvmExits.Allocation a = JkvmExits.allocation(rom, cases[i], n);
            double perExit = a.exitBytesPerExit();
            String alloc = String.format(Locale.ROOT, "exit path %s B, vCPU thread %s B, whole run %s B per exit",
                    Format.number(perExit), Format.number(a.threadBytesPerExit()), Format.number(a.runBytesPerExit()));
            rows.add(new Row("alloc", names[i] + ": exit path", "B/exit", Samples.of(perExit), Samples.NONE, "",
                    Target.valueAtMost(0), alloc, String.format(Locale.ROOT,
                    "\"CPU 0/KVM\", 3 ms samples: median of %d look-free intervals (%d of them allocated anything; %d B over"
                            + " %d exits in all of them); %d B in all over %d exits and %d halt-watcher looks (%s B per look);"
                            + " whole JVM create..close %d B for %d exits",
                    a.cleanIntervals(), a.allocatingIntervals(), a.cleanBytes(), a.cleanExits(), a.threadBytes(), a.threadExits(),
                    a.looks(), Format.number(a.bytesPerLook()), a.runBytes(), a.runExits())));
            for (int j = 0; j < rows.size(); j++) {
                Row r = rows.get(j);
                if (r.group().equals("exits") && r.name().equals(names[i])) {
                    rows.set(j, new Row(r.group(), r.name(), r.unit(), r.jkvm(), r.baseline(), r.baselineName(), r.target(),
                            Format.number(perExit) + " B/exit", r.note()));
                }
            }
        }
    }

    // ---- -exit-trace --------------------------------------------------------------------------

    /**
     * What {@code -exit-trace} costs: the port-exit round trip with tracing on against the same
     * machine with it off, alternating in every repetition; the file's size per million exits; and
     * what the vCPU thread allocates per exit while it records.
     */
    private void exitTrace(Path rom, long tscKhz) throws IOException {
        int n = options.exitIterations();
        int reps = options.exitReps();
        Path dir = Files.createTempDirectory("jkvm-bench-trace");
        Path file = dir.resolve("port-out.json");
        try {
            progress("exit trace: warming jkvm up");
            JkvmExits.run(rom, BenchGuest.PORT_OUT, 20_000, false, null);
            JkvmExits.run(rom, BenchGuest.PORT_OUT, 20_000, false, file);
            double[][] s = new double[2][reps];
            double[][] cpu = new double[2][reps];
            long bytes = 0;
            long exits = 0;
            for (int rep = 0; rep < reps; rep++) {
                progress("exit trace: repetition " + (rep + 1) + " of " + reps + " (" + n + " port exits per run)");
                int r = rep;
                pair(rep % 2 == 0, () -> {
                    double[] v = JkvmExits.cpuRun(rom, BenchGuest.PORT_OUT, n, null, tscKhz);
                    s[1][r] = v[0];
                    cpu[1][r] = v[1];
                }, () -> {
                    double[] v = JkvmExits.cpuRun(rom, BenchGuest.PORT_OUT, n, file, tscKhz);
                    s[0][r] = v[0];
                    cpu[0][r] = v[1];
                });
                bytes += Files.size(file);
                exits += n;
            }
            double mbPerMillion = bytes / 1e6 / (exits / 1e6);
            progress("exit trace: allocation while tracing, " + (options.quick() ? 60_000 : 150_000) + " exits");
            JkvmExits.Allocation a = JkvmExits.allocation(rom, BenchGuest.PORT_OUT, options.quick() ? 60_000 : 150_000, file);
            rows.add(new Row("trace", "port out 0x99, -exit-trace on", "us/iter", samples(s[0]), samples(s[1]), "off",
                    Target.ratioAtMost(1.10), Format.number(a.exitBytesPerExit()) + " B/exit",
                    String.format(Locale.ROOT, "the same Machine (irqchip off, 2 MiB) with tracing off is the baseline;"
                            + " the JSON file: %s MB per million exits (guest and user span per exit, KVM counters each ms)",
                            Format.number(mbPerMillion))));
            rows.add(new Row("trace", "port out 0x99, -exit-trace on: vCPU CPU", "ns/exit", samples(cpu[0]), samples(cpu[1]), "off",
                    Target.ratioAtMost(1.10), "", "CPU time the host charged \"CPU 0/KVM\" (user + system, the guest's"
                            + " included) per exit: what waiting for a CPU on a busy host does not inflate (10 ms ticks)"));
            rows.add(new Row("trace", "port out 0x99, tracing: exit path", "B/exit", Samples.of(a.exitBytesPerExit()),
                    Samples.NONE, "", Target.valueAtMost(0), "", "\"CPU 0/KVM\" while it records into its ring (see alloc)"));
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    private void lifecycle(Path rom) {
        int count = options.lifecycleCount();
        long memory = JkvmExits.MEMORY;
        progress("lifecycle: warming jkvm up");
        JkvmLifecycle.vmNanos(rom, options.quick() ? 60 : 150); // the JIT: steady state is what an embedder sees
        double[][] s = new double[3][options.reps()];
        JkvmLifecycle.Phases[] jp = new JkvmLifecycle.Phases[options.reps()];
        JkvmLifecycle.Phases[] tp = new JkvmLifecycle.Phases[options.reps()];
        for (int rep = 0; rep < options.reps(); rep++) {
            progress("lifecycle: repetition " + (rep + 1) + " of " + options.reps() + " (" + count + " VMs each side)");
            int r = rep;
            pair(rep % 2 == 0,
                    () -> {
                        jp[r] = JkvmLifecycle.vmPhases(rom, count);
                        s[0][r] = jp[r].total() / 1000;
                    },
                    () -> {
                        s[1][r] = c.lifecycleNanos(rom, count, memory) / 1000;
                        tp[r] = c.twinPhases(rom, count, memory);
                        s[2][r] = tp[r].total() / 1000;
                    });
        }
        double vmsPerSecJkvm = 1e6 / Samples.median(s[0]);
        double vmsPerSecC = 1e6 / Samples.median(s[1]);
        rows.add(new Row("lifecycle", "VM: create, run to HLT, destroy", "us/VM", samples(s[0]), samples(s[1]), "C",
                Target.ratioAtMost(1.25), "", String.format(Locale.ROOT, "2 MiB, 1 vCPU, irqchip off: jkvm %.0f VMs/s, C %.0f VMs/s",
                vmsPerSecJkvm, vmsPerSecC)));
        rows.add(new Row("lifecycle", "VM lifecycle against its C twin", "us/VM", samples(s[0]), samples(s[2]), "C twin",
                Target.ratioAtMost(1.1), "", "the twin makes jkvm's system calls (strace of the same machine), on a pthread; "
                + "median us of create/run/close: jkvm " + phases(jp) + ", twin " + phases(tp)));
    }

    /** The medians of each phase, in microseconds: {@code create/run/close}. */
    private static String phases(JkvmLifecycle.Phases[] p) {
        double[] create = new double[p.length];
        double[] run = new double[p.length];
        double[] close = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            create[i] = p[i].create() / 1000;
            run[i] = p[i].run() / 1000;
            close[i] = p[i].close() / 1000;
        }
        return String.format(Locale.ROOT, "%.0f/%.0f/%.0f", Samples.median(create), Samples.median(run), Samples.median(close));
    }

    private void vcpus(Path rom) {
        int count = options.vcpuCount();
        JkvmLifecycle.vcpuNanos(rom, 8, 2);
        for (int vcpus : new int[] {1, 8, 64}) {
            double[][] s = new double[2][options.reps()];
            for (int rep = 0; rep < options.reps(); rep++) {
                progress("vCPU creation: " + vcpus + " vCPUs, repetition " + (rep + 1) + " of " + options.reps());
                int r = rep;
                pair(rep % 2 == 0,
                        () -> s[0][r] = JkvmLifecycle.vcpuNanos(rom, vcpus, count) / 1e6,
                        () -> s[1][r] = c.vcpuNanos(rom, vcpus, count, JkvmExits.MEMORY) / 1e6);
            }
            rows.add(new Row("vcpus", vcpus + " vCPU" + (vcpus > 1 ? "s" : "") + ": create + destroy", "ms/VM",
                    samples(s[0]), samples(s[1]), "C", Target.NONE, "", "2 MiB, in-kernel irqchip + PIT"));
        }
    }

    // ---- stopping a spinning guest --------------------------------------------------------------

    /** The vCPU issue's goal: a spinning vCPU leaves the guest within 100 ms of a stop request. */
    private void stopLatency() throws InterruptedException {
        int reps = options.quick() ? 5 : 15;
        int[] cpus = {1, 2};
        for (int n : cpus) {
            double[][] s = new double[3][reps];
            for (int rep = 0; rep < reps; rep++) {
                progress("stop: " + n + " vCPU(s), repetition " + (rep + 1) + " of " + reps);
                StopLatency.Sample x = StopLatency.measure(n);
                s[0][rep] = x.kickMs();
                s[1][rep] = x.stopMs();
                s[2][rep] = x.closeMs();
            }
            String what = n + " spinning vCPU" + (n > 1 ? "s" : "");
            rows.add(new Row("stop", what + ": quit to out of the guest", "ms", samples(s[0]), Samples.NONE, "",
                    Target.valueAtMost(100), "", "Machine.stop (the monitor's quit) to the last vCPU out of KVM_RUN"));
            rows.add(new Row("stop", what + ": quit to run ended", "ms", samples(s[1]), Samples.NONE, "",
                    Target.valueAtMost(100), "", "every vCPU thread joined, result ready"));
            rows.add(new Row("stop", what + ": close()", "ms", samples(s[2]), Samples.NONE, "",
                    Target.valueAtMost(100), "", "Machine.close of the running machine: threads joined, fds closed"));
        }
    }

    // ---- snapshot and restore ------------------------------------------------------------------

    /**
     * The snapshot issue's goals: a restore in place of a 128 MiB guest that dirtied 1 MiB (against
     * the C VMM's whole VM lifecycle, the floor of starting afresh, and jkvm's own fresh machine),
     * and a save to a file of a guest that touched 2 MiB and its resume.
     */
    private void snapshot(Path rom) throws Exception {
        int reps = options.quick() ? 10 : 30;
        progress("snapshot: restores in place (" + reps + ")");
        SnapshotBench.InPlace in = SnapshotBench.restoreInPlace(reps);
        int count = options.lifecycleCount();
        double[] cLife = new double[options.reps()];
        double[] fresh = new double[options.reps()];
        SnapshotBench.freshMachineMs();
        for (int rep = 0; rep < options.reps(); rep++) {
            progress("snapshot: fresh machines, repetition " + (rep + 1) + " of " + options.reps());
            cLife[rep] = c.lifecycleNanos(rom, count, JkvmExits.MEMORY) / 1e6;
            fresh[rep] = SnapshotBench.freshMachineMs();
        }
        rows.add(new Row("snapshot", "restore in place: 128 MiB, 1 MiB dirtied", "ms", samples(in.ms()), samples(cLife), "C",
                Target.valueAtMost(0.5), String.format(Locale.ROOT, "%.0f B/restore, %.2f B/page", in.bytesPerRestore(),
                in.bytesPerPage()), String.format(Locale.ROOT, "%d pages copied back (dirty log); %.0f restores/s; "
                + "baseline: C's whole VM create/run/destroy", in.pages(), 1000 / Samples.median(in.ms()))));
        rows.add(new Row("snapshot", "fresh jkvm machine: 128 MiB, create + close", "ms", samples(fresh), Samples.NONE, "",
                Target.NONE, "", "what a restore in place stands in for"));
        int fileReps = options.quick() ? 3 : 7;
        double[] size = new double[fileReps];
        double[] save = new double[fileReps];
        double[] resume = new double[fileReps];
        Path dir = Files.createTempDirectory("jkvm-bench-snap");
        try {
            for (int rep = 0; rep < fileReps; rep++) {
                progress("snapshot: save to a file and resume, repetition " + (rep + 1) + " of " + fileReps);
                SnapshotBench.ToFile f = SnapshotBench.toFile(dir);
                size[rep] = f.fileBytes() / 1048576.0;
                save[rep] = f.saveMs();
                resume[rep] = f.resumeMs();
            }
        } finally {
            Files.deleteIfExists(dir);
        }
        rows.add(new Row("snapshot", "file of a 128 MiB guest that touched 2 MiB", "MiB", samples(size), Samples.NONE, "",
                Target.valueAtMost(3), "", "zero and untouched pages are not written"));
        rows.add(new Row("snapshot", "save to the file (paused guest)", "ms", samples(save), Samples.NONE, "",
                Target.NONE, "", "memory scan, state, write"));
        rows.add(new Row("snapshot", "resume from the file", "ms", samples(resume), Samples.NONE, "",
                Target.valueAtMost(50), "", "load + check, machine built, state put back, vCPUs started (JVM start not included)"));
    }

    // ---- many guests ---------------------------------------------------------------------------

    /**
     * N tiny guests (boot, print, debug-exit) through the API in this JVM, as N jkvm processes,
     * and as N QEMU processes, against the C baseline's VM lifecycle as the floor (measured beside
     * the API's chunks, see {@link ManyGuests#besideFloor}) and, for scale, the C VMM on the same
     * ROM: guests per second and total wall time. Processes run up to N = 100 (a full run), the API to 1000.
     */
    private void manyGuests() {
        Path debugExit = BenchGuest.extract("debug-exit", roms);
        Optional<Path> qemu = EndToEnd.findQemu();
        int[] sizes = options.quick() ? new int[] {1, 10, 100} : new int[] {1, 10, 100, 1000};
        int processLimit = options.quick() ? 10 : 100;
        Path floorRom = BenchGuest.extract("bench-exits", roms);
        progress("many guests: warming the API up");
        ManyGuests.throughApi(debugExit, 20);
        for (int n : sizes) {
            progress("many guests: N = " + n);
            // the floor as the lifecycle row has it (2 MiB, HLT at once); the same ROM as jkvm's guest (its memory, its exits)
            ManyGuests.Paired paired = ManyGuests.besideFloor(debugExit, n, k -> c.lifecycleNanos(floorRom, k, JkvmExits.MEMORY),
                    k -> c.lifecycleNanos(debugExit, k, MachineConfig.DEFAULT_MEMORY));
            double api = paired.apiSeconds();
            double cFloor = paired.floorNanosPerVm() / 1e9;
            double procs = Double.NaN;
            double qemus = Double.NaN;
            if (n <= processLimit) {
                long t = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    spawnChecked(EndToEnd.jkvm(options.launcher(), debugExit), EndToEnd.DEBUG_EXIT_STATUS);
                }
                procs = (System.nanoTime() - t) / 1e9;
                if (qemu.isPresent()) {
                    t = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        spawnChecked(EndToEnd.qemu(qemu.get(), debugExit), EndToEnd.DEBUG_EXIT_STATUS);
                    }
                    qemus = (System.nanoTime() - t) / 1e9;
                }
            }
            String detail = String.format(Locale.ROOT, "API %.0f guests/s (%.2f s); jkvm processes %s; QEMU processes %s; C lifecycle floor %.0f VMs/s"
                    + " (beside the API's chunks); C on the same ROM %.2f ms/guest (jkvm %.2fx)",
                    n / api, api, Double.isNaN(procs) ? "not run at this N" : String.format(Locale.ROOT, "%.1f guests/s (%.2f s)", n / procs, procs),
                    Double.isNaN(qemus) ? (qemu.isPresent() ? "not run at this N" : "QEMU not installed")
                            : String.format(Locale.ROOT, "%.1f guests/s (%.2f s)", n / qemus, qemus), 1 / cFloor,
                    paired.sameRomNanosPerVm() / 1e6, api * 1e9 / n / paired.sameRomNanosPerVm());
            rows.add(new Row("guests", "N=" + n + " tiny guests through the API", "ms/guest",
                    samples(new double[] {api * 1000 / n}), samples(new double[] {cFloor * 1000}), "C",
                    Target.ratioAtMost(n >= 100 ? 1.1 : 1.5), "",
                    detail));
            if (n >= 100) {
                // the floor halts at once; this guest first prints a line through ~40 port exits, C's and jkvm's alike
                rows.add(new Row("guests", "N=" + n + " tiny guests, C on the same ROM", "ms/guest",
                        samples(new double[] {api * 1000 / n}), samples(new double[] {paired.sameRomNanosPerVm() / 1e6}), "C same ROM",
                        Target.NONE, "", "the C VMM boots debug-exit.rom with 128 MiB, beside the API's chunks"));
            }
            if (!Double.isNaN(procs)) {
                rows.add(new Row("guests", "N=" + n + " jkvm processes", "ms/guest", samples(new double[] {procs * 1000 / n}),
                        Double.isNaN(qemus) ? Samples.NONE : samples(new double[] {qemus * 1000 / n}), "QEMU", Target.NONE, "",
                        "one ./jkvm (or qemu-system-x86_64) process per guest"));
            }
        }
    }

    // ---- end to end --------------------------------------------------------------------------

    private void endToEnd() {
        Path hello = BenchGuest.extract("hello", roms);
        Path debugExit = BenchGuest.extract("debug-exit", roms);
        Optional<Path> qemu = EndToEnd.findQemu();
        progress("end to end: warming the launcher up (builds and trains its AOT cache when stale)");
        c.spawn(EndToEnd.jkvm(options.launcher(), debugExit));
        int reps = Math.max(options.reps(), 5);
        double[][] helloS = new double[2][reps];
        double[][] dbg = new double[4][reps];
        for (int rep = 0; rep < reps; rep++) {
            progress("end to end: repetition " + (rep + 1) + " of " + reps);
            CBaseline.Spawned h = spawnChecked(EndToEnd.jkvm(options.launcher(), hello), 0);
            helloS[0][rep] = h.wallNanos() / 1e9;
            helloS[1][rep] = h.maxRssKib() / 1024.0;
            int r = rep;
            pair(rep % 2 == 0, () -> {
                CBaseline.Spawned j = spawnChecked(EndToEnd.jkvm(options.launcher(), debugExit), EndToEnd.DEBUG_EXIT_STATUS);
                dbg[0][r] = j.wallNanos() / 1e9;
                dbg[1][r] = j.maxRssKib() / 1024.0;
            }, () -> qemu.ifPresent(q -> {
                CBaseline.Spawned j = spawnChecked(EndToEnd.qemu(q, debugExit), EndToEnd.DEBUG_EXIT_STATUS);
                dbg[2][r] = j.wallNanos() / 1e9;
                dbg[3][r] = j.maxRssKib() / 1024.0;
            }));
        }
        rows.add(new Row("e2e", "./jkvm -bios hello: wall", "s", samples(helloS[0]), Samples.NONE, "", Target.valueAtMost(0.3), "",
                "whole process through the launcher (JVM flags, AOT cache)"));
        rows.add(new Row("e2e", "./jkvm -bios hello: peak RSS", "MB", samples(helloS[1]), Samples.NONE, "", Target.valueAtMost(60), "",
                "wait4 ru_maxrss, MiB"));
        String qemuNote = qemu.map(q -> "QEMU: " + String.join(" ", EndToEnd.qemu(Path.of("qemu-system-x86_64"), Path.of("debug-exit.rom"))))
                .orElse("QEMU is not installed: no baseline");
        // Goals of issue #20: the same ROM at QEMU's time or better (the bar: 1.5x), in at most 48 MB (bar: 60).
        rows.add(new Row("e2e", "debug-exit ROM: wall", "s", samples(dbg[0]), qemu.isPresent() ? samples(dbg[2]) : Samples.NONE,
                "QEMU", Target.ratioAtMost(1.0), "", qemuNote));
        rows.add(new Row("e2e", "debug-exit ROM: peak RSS", "MB", samples(dbg[1]), qemu.isPresent() ? samples(dbg[3]) : Samples.NONE,
                "QEMU", Target.valueAtMost(48), "", "wait4 ru_maxrss, MiB"));
        multibootKernel(qemu);
    }

    /** A Multiboot test kernel's whole run (mb-exit: one line, then isa-debug-exit), jkvm against QEMU. */
    private void multibootKernel(Optional<Path> qemu) {
        Path kernel = BenchGuest.extractFile("mb-exit.elf", roms);
        int reps = 3; // QEMU takes seconds per run here: its firmware runs in KVM's instruction emulator
        double[][] k = new double[4][reps];
        for (int rep = 0; rep < reps; rep++) {
            progress("end to end: Multiboot kernel, repetition " + (rep + 1) + " of " + reps);
            int r = rep;
            pair(rep % 2 == 0, () -> {
                CBaseline.Spawned j = spawnChecked(EndToEnd.jkvmKernel(options.launcher(), kernel), EndToEnd.MB_EXIT_STATUS);
                k[0][r] = j.wallNanos() / 1e9;
                k[1][r] = j.maxRssKib() / 1024.0;
            }, () -> qemu.ifPresent(q -> {
                CBaseline.Spawned j = spawnChecked(EndToEnd.qemuKernel(q, kernel), EndToEnd.MB_EXIT_STATUS);
                k[2][r] = j.wallNanos() / 1e9;
                k[3][r] = j.maxRssKib() / 1024.0;
            }));
        }
        rows.add(new Row("e2e", "Multiboot kernel (mb-exit): wall", "s", samples(k[0]), qemu.isPresent() ? samples(k[2]) : Samples.NONE,
                "QEMU", Target.ratioAtMost(0.1), "", "-kernel mb-exit.elf, isa-debug-exit; QEMU boots it through SeaBIOS"));
        rows.add(new Row("e2e", "Multiboot kernel (mb-exit): peak RSS", "MB", samples(k[1]), qemu.isPresent() ? samples(k[3]) : Samples.NONE,
                "QEMU", Target.valueAtMost(48), "", "wait4 ru_maxrss, MiB"));
    }

    private CBaseline.Spawned spawnChecked(List<String> command, int status) {
        CBaseline.Spawned s = c.spawn(command);
        if (s.status() != status) {
            throw new IllegalStateException(String.join(" ", command) + ": exit status " + s.status() + ", expected " + status);
        }
        return s;
    }

    // ---- overcommit --------------------------------------------------------------------------

    private void overcommit(Path rom) {
        Duration interval = options.overcommitInterval();
        Duration warmUp = Duration.ofMillis(options.quick() ? 200 : 500);
        List<Series.Point> separate = new ArrayList<>();
        List<Series.Point> shared = new ArrayList<>();
        for (int k : new int[] {1, 2, 4, 8, 16}) {
            progress("overcommit: k = " + k);
            boolean separateFirst = k % 2 == 0;
            DoubleSupplier a = () -> Overcommit.separateGuests(rom, k, interval, warmUp);
            DoubleSupplier b = () -> Overcommit.oneGuest(rom, k, interval, warmUp);
            double[] v = new double[2];
            if (separateFirst) {
                v[0] = a.getAsDouble();
                v[1] = b.getAsDouble();
            } else {
                v[1] = b.getAsDouble();
                v[0] = a.getAsDouble();
            }
            separate.add(new Series.Point(k, v[0]));
            shared.add(new Series.Point(k, v[1]));
        }
        overcommit.add(new Series("k guests x 1 vCPU", separate));
        overcommit.add(new Series("1 guest x k vCPUs", shared));
    }

    // ---- JMH ---------------------------------------------------------------------------------

    private void jmh() throws Exception {
        progress("JMH (-prof gc), forked JVM");
        for (JmhRun.Score s : JmhRun.run(options.quick())) {
            boolean perExit = s.name().startsWith("ExitBenchmark");
            rows.add(new Row("jmh", s.name(), perExit ? "us/exit" : "us/VM", Samples.of(s.score()), Samples.NONE, "",
                    Target.NONE,
                    Format.number(s.allocPerOp()) + (perExit ? " B/exit" : " B/VM") + " (gc.alloc.rate.norm)",
                    perExit ? "a whole Machine run per 10^5 exits: setup amortised" : "Machine create, run to HLT, close"));
        }
        notes.add("JMH rows: jkvm alone, C2 JIT, forked JVM, -prof gc; the alloc column there is JMH's gc.alloc.rate.norm");
    }
}
