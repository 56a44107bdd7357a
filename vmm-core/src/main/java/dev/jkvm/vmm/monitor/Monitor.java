package dev.jkvm.vmm.monitor;

import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SharedKvm;
import dev.jkvm.vmm.host.CpuList;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.host.KvmModule;
import dev.jkvm.vmm.stats.StatsFormatter;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * jkvm's monitor: QEMU's human monitor commands (with QEMU's output where QEMU has the command)
 * over one machine. Transport-free: {@link #execute} takes a command line and returns the text to
 * print, so {@code -monitor stdio}, a Unix socket, GDB's {@code monitor} and tests share it.
 *
 * <pre>{@code
 * Monitor mon = new Monitor(machine);
 * System.out.print(mon.execute("info cpus"));   // * CPU #0: thread_id=4711 ...
 * }</pre>
 */
public final class Monitor {

    private static final Duration ANSWER = Duration.ofSeconds(2);

    private record Command(String args, String help, Function<String[], String> action) {
    }

    private final Machine machine;
    private final Map<String, Command> commands = new LinkedHashMap<>();
    private final Map<String, Command> infos = new LinkedHashMap<>();

    public Monitor(Machine machine) {
        this.machine = machine;
        commands.put("help", new Command("[cmd]", "show the commands", a -> help()));
        commands.put("info", new Command("subcommand", "show the machine's state (info alone lists what)", this::info));
        commands.put("stop", new Command("", "stop the emulation: every vCPU parked outside the guest", a -> stop()));
        commands.put("cont", new Command("", "resume the emulation", a -> cont()));
        commands.put("quit", new Command("", "quit the emulator", a -> quit()));
        commands.put("system_powerdown", new Command("", "press the power button (an ACPI guest shuts itself down)",
                a -> powerdown()));
        commands.put("system_wakeup", new Command("", "wake a guest suspended to RAM (S3)", a -> {
            machine.wakeup();
            return "";
        }));
        commands.put("system_reset", new Command("", "reset the machine", a -> {
            machine.systemReset();
            return "";
        }));
        commands.put("trace-file", new Command("[on|off|flush|set FILE]",
                "the exit trace: start, stop, write out what is recorded, or change the file", a -> machine.exitTrace().command(a)));
        infos.put("kvm", new Command("", "KVM support, its module and paging mode, isolated host CPUs", a -> infoKvm()));
        infos.put("cpus", new Command("", "the vCPUs with their host thread ids", a -> infoCpus()));
        infos.put("registers", new Command("[-a]", "the registers of vCPU 0 (all vCPUs with -a)", this::infoRegisters));
        infos.put("lapic", new Command("[cpu]", "the in-kernel local APIC of vCPU 0 (or of vCPU cpu)", this::infoLapic));
        infos.put("exits", new Command("", "exits per vCPU in user, kernel and guest mode", a -> StatsFormatter.table(machine.reports())));
        infos.put("status", new Command("", "whether the VM runs", a -> infoStatus()));
        infos.put("name", new Command("", "the guest's name (-name), nothing when it has none",
                a -> machine.config().name().map(n -> n + "\n").orElse("")));
        infos.put("acpi", new Command("", "the ACPI tables with their addresses and lengths", a -> infoAcpi()));
        infos.put("devices", new Command("", "the emulated devices with their ports, IRQs and state",
                a -> machine.devices().describe()));
        if (machine != null) {
            new MemoryCommands(machine).install(this);
            new MigrationCommands(machine).install(this);
        }
    }

    /** Adds a command (for parts of jkvm that bring their own, e.g. memory inspection). */
    public void addCommand(String name, String args, String help, Function<String[], String> action) {
        commands.put(name, new Command(args, help, action));
    }

    /** Adds an {@code info} subcommand. */
    public void addInfo(String name, String args, String help, Function<String[], String> action) {
        infos.put(name, new Command(args, help, action));
    }

    /** Runs one command line; returns what it prints (ending in a newline, or empty). */
    public String execute(String line) {
        String[] words = line.strip().split("\\s+");
        if (words.length == 0 || words[0].isEmpty()) {
            return "";
        }
        String name = switch (words[0]) {
            case "q" -> "quit";
            case "c" -> "cont";
            case "?", "h" -> "help";
            case "i" -> "info";
            default -> words[0];
        };
        Command c = commands.get(name);
        if (c == null) {
            return "unknown command: '" + words[0] + "'\n";
        }
        try {
            return c.action().apply(Arrays.copyOfRange(words, 1, words.length));
        } catch (RuntimeException e) {
            return "Error: " + e.getMessage() + "\n";
        } catch (Throwable e) {
            // an Error (out of memory, stack overflow, a bug) fails this command alone: the session goes on
            return "Error: internal error in '" + words[0] + "': " + e + "\n";
        }
    }

    private String help() {
        StringBuilder sb = new StringBuilder();
        commands.forEach((n, c) -> sb.append(String.format(Locale.ROOT, "%-28s -- %s%n", (n + " " + c.args()).strip(), c.help())));
        return sb.toString();
    }

    private String info(String[] args) {
        if (args.length == 0) {
            StringBuilder sb = new StringBuilder();
            infos.forEach((n, c) -> sb.append(String.format(Locale.ROOT, "info %-23s -- %s%n", (n + " " + c.args()).strip(), c.help())));
            return sb.toString();
        }
        Command c = infos.get(args[0]);
        if (c == null) {
            return "unknown info subcommand: '" + args[0] + "' (try 'info')\n";
        }
        return c.action().apply(Arrays.copyOfRange(args, 1, args.length));
    }

    private String infoKvm() {
        KvmModule module = KvmModule.detect();
        BitSet isolated = HostCpus.isolated();
        StringBuilder sb = new StringBuilder("kvm support: enabled\n");
        sb.append("KVM API version: ").append(SharedKvm.get().apiVersion()).append('\n');
        sb.append("KVM module: ").append(module.module()).append('\n');
        sb.append("guest paging: ").append(module.pagingMode()).append('\n');
        sb.append("host CPUs: ").append(HostCpus.online()).append(" online, allowed ")
                .append(CpuList.format(HostCpus.allowed())).append(", isolated ").append(CpuList.format(isolated)).append('\n');
        for (Vcpu v : machine.vcpus()) {
            BitSet pin = v.affinity();
            if (pin != null) {
                BitSet onIsolated = (BitSet) pin.clone();
                onIsolated.and(isolated);
                sb.append(String.format(Locale.ROOT, "CPU #%d pinned to host CPUs %s (%s)%n", v.index(), CpuList.format(pin),
                        onIsolated.equals(pin) ? "isolated" : onIsolated.isEmpty() ? "not isolated" : "partly isolated"));
            }
        }
        return sb.toString();
    }

    private String infoCpus() {
        StringBuilder sb = new StringBuilder();
        for (Vcpu v : machine.vcpus()) {
            String halted = "";
            try {
                if (v.state() == Vcpu.State.RUNNING) {
                    halted = switch (v.call(fd -> fd.mpState(), ANSWER)) {
                        case KvmConstants.KVM_MP_STATE_HALTED -> " (halted)";
                        case KvmConstants.KVM_MP_STATE_UNINITIALIZED, KvmConstants.KVM_MP_STATE_INIT_RECEIVED ->
                                " (waiting for INIT/SIPI)";
                        default -> "";
                    };
                }
            } catch (IllegalStateException e) {
                halted = " (not answering)";
            }
            int cpu = v.lastHostCpu();
            BitSet pin = v.tid() == 0 ? null : Libc.schedGetaffinity(v.tid());
            sb.append(String.format(Locale.ROOT, "%c CPU #%d: thread_id=%d%s%s%s%n", v.index() == 0 ? '*' : ' ', v.index(),
                    v.tid(), halted, cpu >= 0 ? " host_cpu=" + cpu : "", pin != null ? " affinity=" + CpuList.format(pin) : ""));
        }
        return sb.toString();
    }

    private String infoRegisters(String[] args) {
        boolean all = args.length > 0 && args[0].equals("-a");
        StringBuilder sb = new StringBuilder();
        List<Vcpu> vcpus = machine.vcpus();
        for (Vcpu v : all ? vcpus : vcpus.subList(0, 1)) {
            if (all) {
                sb.append("\nCPU#").append(v.index()).append('\n');
            }
            Object[] rs = v.call(fd -> new Object[] {fd.regs(), fd.sregs()}, ANSWER);
            sb.append(RegisterDump.format((Regs) rs[0], (Sregs) rs[1]));
        }
        return sb.toString();
    }

    private String infoLapic(String[] args) {
        List<Vcpu> vcpus = machine.vcpus();
        int cpu;
        try {
            cpu = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        } catch (NumberFormatException e) {
            return "Error: info lapic wants a vCPU index, not '" + args[0] + "'\n";
        }
        if (cpu < 0 || cpu >= vcpus.size()) {
            return "Error: no vCPU " + cpu + " (the machine has " + vcpus.size() + ")\n";
        }
        if (!machine.config().irqchip()) {
            return "Error: no in-kernel local APIC (the machine runs without an irqchip)\n";
        }
        Object[] state = vcpus.get(cpu).call(fd -> new Object[] {fd.lapic(), fd.msrs(LapicDump.MSRS)}, ANSWER);
        return LapicDump.format(cpu, (byte[]) state[0], (long[]) state[1]);
    }

    private String powerdown() {
        machine.powerdown(); // an ACPI guest shuts down; a sleeping PC wakes
        return "";
    }

    private String infoAcpi() {
        if (machine.tables().acpiTables().isEmpty()) {
            return "no ACPI tables (-no-acpi)\n";
        }
        StringBuilder sb = new StringBuilder();
        machine.tables().acpiTables().forEach(t -> sb.append(t).append('\n'));
        return sb.toString();
    }

    private String infoStatus() {
        if (machine.suspended()) {
            return "VM status: paused (suspended)\n";
        }
        if (machine.ended()) {
            return "VM status: shutdown (" + machine.result().orElseThrow().message() + ")\n";
        }
        return machine.paused() ? "VM status: paused\n" : "VM status: running\n";
    }

    private String stop() {
        return machine.pause() ? "" : "Error: not every vCPU stopped in time\n";
    }

    private String cont() {
        machine.resume();
        return "";
    }

    private String quit() {
        machine.stop(RunResult.of(RunResult.Reason.QUIT, 0, "quit from the monitor"));
        return "";
    }
}
