package dev.jkvm.vmm;

import dev.jkvm.kvm.Terminal;
import dev.jkvm.vmm.chardev.ChardevEndpoint;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.qmp.QmpLaunch;
import dev.jkvm.vmm.serial.StdioMux;
import dev.jkvm.vmm.cli.Invocation;
import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.host.CpuList;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.host.StartupPhases;
import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.monitor.MonitorServer;
import dev.jkvm.vmm.serial.SinkWriter;
import dev.jkvm.vmm.snapshot.Snapshot;
import dev.jkvm.vmm.stats.StatsFormatter;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * The {@code jkvm} command: parses QEMU-style options into a {@link MachineConfig}, runs one
 * {@link Machine}, and exits with the status the guest chose. Every error a user can cause is
 * one line on stderr and status 1; internal errors get their stack trace only with
 * {@code JKVM_DEBUG=1}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        StartupPhases.mark("JVM up, main() entered");
        warmUpInBackground();
        int status = run(args, System.out, System.err);
        StartupPhases.mark("guest ended, results printed");
        StartupPhases.print(System.err);
        // halt, not exit: everything was closed above (the terminal restored, sessions and the
        // machine closed), and Runtime.exit first sets up System.Logger to log the call (~20 ms of a
        // tiny guest's run, interpreted); no shutdown hook of jkvm's is left to run by then. Standard
        // output holds jkvm's own listings (the guest's bytes have a stream of their own); stderr is
        // not flushed: its one writer, the bounded SinkWriter, may still sit in a write nobody reads.
        System.out.flush();
        Runtime.getRuntime().halt(status);
    }

    /**
     * Makes the CPU tables and opens /dev/kvm on two other threads while this one parses the
     * command line and builds the devices and firmware tables: a tiny guest's start-up runs
     * interpreted, the CPU tables take ~2 ms and linking the first FFM downcall (the linker
     * generates and loads its stub) ~30 ms, and the machine needs them only once its devices and
     * tables are built. The host has a second CPU for them. The kick signal is set after the link,
     * on its thread: it goes through the same stub, and the thread that first asks links it.
     * Whatever fails here fails again, with its message, where it is asked for.
     */
    static void warmUpInBackground() {
        warmUp("jkvm-warm-up-cpu", "(warm-up thread: CPU tables made)", CpuModels::builtin);
        warmUp("jkvm-warm-up", "(warm-up thread: FFM linked, /dev/kvm open, supported CPUID, kick signal set)", () -> {
            SharedKvm.get().supportedCpuid();
            Vcpu.prepareProcess();
        });
    }

    private static void warmUp(String name, String phase, Runnable work) {
        Thread.ofPlatform().name(name).daemon(true).start(() -> {
            try {
                work.run();
            } catch (RuntimeException | LinkageError e) {
                // reported where it is asked for
            }
            StartupPhases.mark(phase);
        });
    }

    /** Runs the command; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            Invocation invocation = CommandLine.parse(args);
            StartupPhases.mark("command line parsed");
            // instanceof tests, not pattern switches, on the start-up path: see SerialBackend.openSink
            if (invocation instanceof Invocation.Run r) {
                return boot(r.config(), r.incoming(), StatsSink.open(r.statsFile(), err), err);
            }
            if (invocation instanceof Invocation.Listing c) {
                out.print(c.text());
            } else if (invocation instanceof Invocation.Version) {
                out.println(CommandLine.versionLine());
            } else {
                out.print(CommandLine.usage());
            }
            return 0;
        } catch (JkvmException e) {
            err.println("jkvm: " + e.getMessage());
            return 1;
        } catch (RuntimeException | Error e) {
            err.println("jkvm: internal error: " + e);
            if (System.getenv("JKVM_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    /** How long the end of a run waits for stderr while it takes bytes (one nobody reads is not waited for). */
    private static final long LOG_DRAIN_MILLIS = 100;
    /** How long, at most, a line logged off the vCPUs' threads waits to be written. */
    private static final long LOG_LINE_DRAIN_MILLIS = 20;

    /**
     * Runs the machine with stderr behind a bounded writer: the vCPUs log on their own threads
     * ({@code -d unimp}, crash reports), and a stderr pipe nobody reads must never make them wait.
     */
    private static int boot(MachineConfig config, Optional<Path> incoming, StatsSink stats, PrintStream stderr) {
        SinkWriter log = SinkWriter.start("stderr", stderr);
        PrintStream err = new PrintStream(log.stream(), true, stderr.charset());
        try {
            return run(config, incoming, stats, err, log);
        } finally {
            if (log.drain(LOG_DRAIN_MILLIS) && log.dropped() > 0) {
                err.println("jkvm: " + log.dropped() + " bytes of log dropped: stderr did not keep up");
                log.drain(LOG_DRAIN_MILLIS);
            }
            log.close();
        }
    }

    private static int run(MachineConfig config, Optional<Path> incoming, StatsSink stats, PrintStream err, SinkWriter log) {
        startupNotes(config, err);
        List<Closeable> sessions = new ArrayList<>();
        Snapshot snapshot = null;
        if (incoming.isPresent()) {
            try {
                snapshot = Snapshot.load(incoming.get());
            } catch (JkvmException e) {
                throw new JkvmException("-incoming: " + e.getMessage(), e);
            }
        }
        try (Machine machine = snapshot == null ? Machine.create(config) : createIncoming(config, snapshot)) {
            StartupPhases.mark("machine created");
            machine.onLog(line -> {
                err.println(line);
                // Out before the thread that logs goes on: gdb's "debugger detached" before the guest
                // it lets go prints on stdout, mid-line otherwise. Never on a vCPU's thread; bounded.
                if (!Vcpu.onVcpuThread()) {
                    log.drain(LOG_LINE_DRAIN_MILLIS, LOG_LINE_DRAIN_MILLIS);
                }
            });
            for (String w : machine.warnings()) {
                err.println("jkvm: " + w);
            }
            if (config.logCpuid() || cpuidDebug(System.getenv("JKVM_DEBUG"))) {
                machine.cpuidDetails().forEach(line -> err.println("jkvm: " + line));
            }
            // Made at once only for a front end that talks to it: a tiny guest's run otherwise meets
            // the monitor at Ctrl-A c or never (its forty commands are ~2 ms of start-up, interpreted).
            boolean served = !config.qmp().isEmpty() || !(config.monitor() instanceof MachineConfig.MonitorSpec.None);
            Monitor monitor = served ? new Monitor(machine) : null;
            Monitor[] onDemand = {monitor};
            Supplier<Monitor> forCtrlA = () -> {
                synchronized (onDemand) {
                    if (onDemand[0] == null) {
                        onDemand[0] = new Monitor(machine);
                    }
                    return onDemand[0];
                }
            };
            Closeable qmp = config.qmp().isEmpty() ? null : QmpLaunch.start(machine, monitor, config.qmp(), err);
            if (qmp != null) {
                sessions.add(qmp);
            }
            boolean stdinForMonitor = config.monitor() instanceof MachineConfig.MonitorSpec.Stdio;
            if (config.monitor() instanceof MachineConfig.MonitorSpec.Stdio) {
                sessions.add(MonitorServer.serve(monitor, System.in, System.out));
            } else if (config.monitor() instanceof MachineConfig.MonitorSpec.Unix u) {
                sessions.add(listen(monitor, u));
            } else if (config.monitor() instanceof MachineConfig.MonitorSpec.Chardev c) {
                sessions.add(ChardevEndpoint.open(c.spec(), c.spec().id().equals("compat_monitor0") ? "-monitor"
                        : "-mon chardev=" + c.spec().id(), (in, o) -> MonitorServer.session(monitor, in, o), err::println));
            }
            if (!stdinForMonitor && config.serial() instanceof SerialBackend.Stdio) {
                // Keys go to the guest at once (raw terminal), Ctrl-A c reaches the monitor, as QEMU's -nographic.
                Runnable restore = Terminal.makeRaw(0);
                sessions.add(restore::run);
                Runtime.getRuntime().addShutdownHook(new Thread(restore));
                new StdioMux(System.in, System.out, machine.serial(), forCtrlA,
                        () -> machine.stop(RunResult.of(RunResult.Reason.QUIT, 0, "Ctrl-A x"))).start();
            }
            SignalStop.install(machine, err);
            StartupPhases.mark("front ends ready (monitor, stdio, signals)");
            // The start-up's warnings reach stderr before the guest's first byte reaches stdout, as
            // QEMU's do (a terminal or a harness reading both sees them first); a stderr that does not
            // take them within the bound is not waited for.
            log.drain(LOG_DRAIN_MILLIS);
            RunResult result = machine.run();
            StartupPhases.mark("run ended");
            if (qmp != null) {
                closeQuietly(qmp); // the last reply and the SHUTDOWN event go out before the machine closes
            }
            result.report().ifPresent(report -> err.print(machine.reportLoggedAtReset(report)
                    ? String.format(Locale.ROOT, "jkvm: CPU %d: the same triple fault again right after the reset (RIP=%016x, report above): the run ends%n",
                            report.vcpu(), report.rip())
                    : report.format()));
            switch (result.reason()) {
                case TIMEOUT, ERROR, CLOSED -> err.println("jkvm: " + result.message());
                default -> {
                }
            }
            switch (config.stats()) {
                case TABLE -> stats.write(StatsFormatter.table(machine.reports()));
                case JSON -> stats.write(StatsFormatter.json(machine.reports()) + "\n");
                case NONE -> {
                }
            }
            return result.exitStatus();
        } finally {
            for (Closeable c : sessions) {
                try {
                    c.close();
                } catch (IOException e) {
                    // the socket file may already be gone
                }
            }
        }
    }

    /** {@code JKVM_DEBUG=1} (any value but {@code startup}, whose table should time a run as it is) adds {@code -d cpuid}. */
    static boolean cpuidDebug(String debug) {
        return debug != null && !debug.equals("startup");
    }

    private static Machine createIncoming(MachineConfig config, Snapshot snapshot) {
        try {
            return Machine.create(config, snapshot);
        } catch (JkvmException e) {
            throw new JkvmException("-incoming: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // a socket file already gone
        }
    }

    private static Closeable listen(Monitor monitor, MachineConfig.MonitorSpec.Unix unix) {
        try {
            return MonitorServer.listenUnix(monitor, unix.path());
        } catch (IOException e) {
            throw new JkvmException("-monitor unix:" + unix.path() + ": cannot listen: " + e.getMessage());
        }
    }

    /** The warnings and facts worth a line before the guest starts. */
    private static void startupNotes(MachineConfig config, PrintStream err) {
        // One vCPU never outnumbers the host's CPUs: the list of online CPUs is read only for more.
        int online = config.topology().cpus() > 1 ? HostCpus.online() : 1;
        if (config.topology().cpus() > online) {
            err.println("jkvm: warning: the guest has " + config.topology().cpus() + " vCPUs but the host only "
                    + online + " online CPUs: an over-committed guest spins on locks whose holder is not running");
        }
        if (config.startPaused() && config.gdb().isEmpty()
                && config.monitor() instanceof MachineConfig.MonitorSpec.None) {
            // Nothing else would tell a user why nothing happens.
            boolean mux = config.serial() instanceof SerialBackend.Stdio && Terminal.isTerminal(0);
            err.println("jkvm: -S: the vCPUs wait for the monitor's cont"
                    + (mux ? ": press Ctrl-A c, then type cont (or start with -monitor or -gdb/-s)"
                           : ", and there is no monitor or debugger: add -monitor or -gdb/-s (Ctrl-C ends jkvm)"));
        }
        if (!config.vcpuAffinity().isEmpty()) {
            BitSet isolated = HostCpus.isolated();
            StringBuilder sb = new StringBuilder("jkvm: isolated host CPUs: " + CpuList.format(isolated));
            for (Map.Entry<Integer, BitSet> e : config.vcpuAffinity().entrySet()) {
                BitSet on = (BitSet) e.getValue().clone();
                on.andNot(isolated);
                sb.append("; vCPU ").append(e.getKey()).append(" on ").append(CpuList.format(e.getValue()))
                        .append(on.isEmpty() ? " (isolated)" : " (not isolated)");
            }
            err.println(sb);
        }
    }

    /** The version from the jar manifest, else the one the build wrote into version.properties, else "dev". */
    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String built = p.getProperty("version", "");
                if (!built.isEmpty() && !built.startsWith("$")) {
                    return built;
                }
            }
        } catch (IOException e) {
            // fall through: no version known
        }
        return "dev";
    }
}
