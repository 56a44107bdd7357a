package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.Main;
import dev.jkvm.vmm.QmpSpec;
import dev.jkvm.vmm.SerialBackend;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.boot.BundledImages;
import dev.jkvm.vmm.chardev.ChardevRegistry;
import dev.jkvm.vmm.chardev.ChardevSpec;
import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.cpu.CpuOption;
import dev.jkvm.vmm.cpu.SmpOption;
import dev.jkvm.vmm.gdb.GdbEndpoint;
import dev.jkvm.vmm.trace.TraceSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's command-line dialect, parsed into one {@link MachineConfig}: options start with one dash
 * or two ({@code -m 512M}, {@code --m=512M} is not QEMU's and is not accepted); an unknown one is
 * refused the way QEMU refuses it, naming the option.
 *
 * <pre>{@code
 * Invocation inv = CommandLine.parse("-m", "64M", "-bios", "hello.rom");
 * }</pre>
 */
public final class CommandLine {

    /** One option: whether it takes an argument, what it does to the builder, its help line. */
    private record Option(String argName, String help, BiConsumer<MachineConfig.Builder, String> apply,
                          BiConsumer<Parse, String> applyInContext) {
        Option(String argName, String help, BiConsumer<MachineConfig.Builder, String> apply) {
            this(argName, help, apply, null);
        }

        /** An option that needs the chardevs or the -global defaults of the whole line. */
        static Option withContext(String argName, String help, BiConsumer<Parse, String> apply) {
            return new Option(argName, help, null, apply);
        }

        boolean takesArgument() {
            return argName != null;
        }
    }

    /**
     * What one parse shares between options: the builder, the {@code -chardev}s (all defined before
     * any option uses one, wherever they stand, as in QEMU) and the isa-debugcon defaults of {@code -global}.
     */
    private record Parse(MachineConfig.Builder builder, ChardevRegistry chardevs, Map<String, Integer> debugconDefaults) {
    }

    /**
     * Where -h lists the bundled images: looked up when the help is printed, not when the option
     * table is built at every start (listing the jar's entries was 4 ms of a tiny guest's start-up).
     */
    private static final String BUNDLED_ROMS = "{bundled .rom}";
    private static final String BUNDLED_KERNELS = "{bundled .elf}";

    private static final Map<String, Option> OPTIONS = options();

    /** {@code -machine help}, in QEMU's layout. */
    static final String MACHINE_HELP = "Supported machines are:\n"
            + "pc                   PC: i440FX host bridge, PIIX4 power management, ISA devices (default)\n";
    /** {@code -accel help}, in QEMU's layout. */
    static final String ACCEL_HELP = "Accelerators supported in jkvm:\nkvm\n";

    /**
     * What may follow {@code -stats}: {@code json}, {@code table}, either with {@code ,file=PATH}, or
     * {@code file=PATH}. Compiled on first use: a regular expression costs start-up ~3 ms interpreted.
     */
    private static final class StatsArgument {
        static final Pattern PATTERN = Pattern.compile("(json|table)(,file=.+)?|file=.+");
    }

    private static Map<String, Option> options() {
        Map<String, Option> options = new LinkedHashMap<>();
        options.put("bios", new Option("FILE", "boot the firmware ROM in FILE, or a bundled one by name"
                + " (default hello; bundled: " + BUNDLED_ROMS + ")",
                (b, v) -> b.firmware(BiosRom.resolve(v))));
        options.put("m", new Option("[size=]N[K|M|G|T]", "guest RAM; a bare number is MiB (default 128M)",
                (b, v) -> b.memory(Sizes.parseMemory(v))));
        options.put("nographic", new Option(null, "serial port on standard I/O (the default; jkvm has no display)",
                (b, v) -> { }));
        options.put("enable-kvm", new Option(null, "accepted for QEMU compatibility: jkvm always uses KVM",
                (b, v) -> { }));
        options.put("timeout", new Option("SECONDS", "end the guest after SECONDS (exit status 124)",
                (b, v) -> b.timeout(parseTimeout(v))));
        options.put("serial", Option.withContext("stdio|none|file:PATH|unix:PATH,server[,nowait]|chardev:ID",
                "the next serial port, COM1 to COM4 (default: COM1 on stdio)", (p, v) -> p.builder().addSerial(
                        v.startsWith("chardev:") ? SerialBackend.of(p.chardevs().claim(v.substring(8), "-serial " + v))
                                : SerialBackend.parse(v))));
        options.put("chardev", Option.withContext("null|stdio|file|socket,id=ID[,path=P][,host=H,port=N][,server=on|off][,wait=on|off]",
                "a character device for -serial chardev:ID, -mon chardev=ID, -device isa-debugcon,chardev=ID", (p, v) -> {
                    // defined before the other options run (see parse)
                }));
        options.put("mon", Option.withContext("chardev=ID[,mode=readline|control][,pretty=on|off]",
                "the monitor on a chardev: the human monitor, or QMP with mode=control",
                (p, v) -> parseMon(v, p.chardevs(), p.builder())));
        options.put("debugcon", Option.withContext("DEV", "an isa-debugcon at port 0x" + Integer.toHexString(Layout.DEBUGCON_DEFAULT)
                + " on DEV (stdio, file:PATH, chardev:ID, ...)",
                (p, v) -> DeviceOptions.debugcon(v, p.builder(), p.chardevs(), p.debugconDefaults())));
        options.put("smp", new Option("[cpus=]n[,maxcpus=m][,sockets=s][,dies=d][,cores=c][,threads=t]",
                "the vCPUs and their topology (default 1)", (b, v) -> b.topology(SmpOption.parse(v))));
        options.put("cpu", new Option("MODEL[,+feat][,-feat][,feat=on|off][,enforce][,kvm=off]",
                "the CPU model and its features (default qemu64; -cpu help lists them)", (b, v) -> b.cpu(v)));
        options.put("readconfig", new Option("FILE", "read [cpudef] CPU models from FILE",
                (b, v) -> b.readConfig(Path.of(v))));
        options.put("kernel", new Option("FILE", "boot a Multiboot, Linux (bzImage) or PVH (vmlinux) kernel, or a bundled"
                + " test kernel by name (" + BUNDLED_KERNELS + ")",
                MachineConfig.Builder::kernelImage));
        options.put("initrd", new Option("FILE", "the initial ramdisk (Multiboot: \"mod1 args,mod2\" modules)",
                MachineConfig.Builder::initrd));
        options.put("append", new Option("CMDLINE", "the kernel command line", MachineConfig.Builder::append));
        options.put("gdb", new Option("tcp::PORT|tcp:HOST:PORT|unix:PATH", "wait for a GDB connection (loopback unless a host is given)",
                (b, v) -> b.gdb(GdbEndpoint.parse(v).orElse(null))));
        options.put("s", new Option(null, "shorthand for -gdb tcp::1234", (b, v) -> b.gdb(GdbEndpoint.DEFAULT)));
        options.put("S", new Option(null, "do not start the vCPUs until the debugger or the monitor's cont says so",
                (b, v) -> b.startPaused(true)));
        Option machine = new Option("[type=]pc[,kernel-irqchip=on|off][,accel=kvm]", "the machine type (only pc) and its options",
                (b, v) -> parseMachine(v).ifPresent(b::irqchip));
        options.put("machine", machine);
        options.put("M", new Option(machine.argName(), "same as -machine", machine.apply()));
        options.put("accel", new Option("kvm[,kernel-irqchip=on|off]", "the accelerator: jkvm has KVM only",
                (b, v) -> parseAccel(v).ifPresent(b::irqchip)));
        options.put("display", new Option("none", "accepted for QEMU's command lines: jkvm has no display",
                (b, v) -> parseDisplay(v)));
        options.put("no-user-config", new Option(null, "no configuration of jkvm's own: the CPU models of"
                + " ~/.config/jkvm/cpus are not read (-readconfig files still are)", (b, v) -> b.userConfig(false)));
        options.put("nodefaults", new Option(null, "no default serial backend: without -serial, COM1 is connected to nothing",
                (b, v) -> b.noDefaults(true)));
        options.put("name", new Option("NAME[,debug-threads=on|off]", "the guest's name (info name); vCPU threads are"
                + " always named CPU n/KVM, as QEMU's debug-threads=on", (b, v) -> b.name(parseName(v))));
        options.put("device", Option.withContext("DRIVER[,PROP=VALUE...]", "pc-testdev, pci-testdev, isa-debugcon[,iobase=N],chardev=ID,"
                + " isa-debug-exit[,iobase=0x" + Integer.toHexString(Layout.DEBUG_EXIT) + "] (always there); -device help lists them",
                (p, v) -> DeviceOptions.device(v, p.builder(), p.chardevs(), p.debugconDefaults())));
        options.put("no-acpi", new Option(null, "no ACPI tables: the MP table alone describes the machine",
                (b, v) -> b.acpi(false)));
        options.put("global", Option.withContext("DRIVER.PROP=VALUE", "a device property: PIIX4_PM.disable_s3=0|1 (S3 offered"
                + " or not), kvm-pit.lost_tick_policy=discard|delay, isa-debugcon.iobase=N, ...", (p, v) -> {
                    // applied before the other options run (see parse), so that -device sees the defaults
                }));
        options.put("net", new Option("none", "accepted for QEMU's command lines: jkvm has no network devices",
                (b, v) -> noneOnly("-net", v, "jkvm has no network devices")));
        options.put("nic", new Option("none", "accepted for QEMU's command lines: jkvm has no network devices",
                (b, v) -> noneOnly("-nic", v, "jkvm has no network devices")));
        options.put("no-hpet", new Option(null, "accepted for QEMU's command lines: jkvm's pc has no HPET", (b, v) -> { }));
        options.put("rtc", new Option("base=utc[,clock=host][,driftfix=none|slew]",
                "the CMOS clock: UTC from the host's clock (QEMU's default; base=localtime is refused)", (b, v) -> parseRtc(v)));
        options.put("vnc", new Option("none", "accepted for QEMU's command lines: jkvm has no display", (b, v) -> {
            if (!v.equals("none")) {
                throw new JkvmException("-vnc " + v + ": jkvm has no display: only -vnc none");
            }
        }));
        options.put("no-reboot", new Option(null, "end jkvm when the guest resets instead of restarting it",
                (b, v) -> b.noReboot(true)));
        options.put("vcpu-affinity", new Option("N@[CPUS],...", "pin vCPU N to host CPUs (e.g. 0@[2,3],1@[4-5])",
                (b, v) -> AffinityParser.parse(v).forEach(b::vcpuAffinity)));
        options.put("monitor", Option.withContext("stdio|unix:PATH,server,nowait|chardev:ID",
                "the monitor (QEMU's commands: info cpus, stop, ...)", (p, v) -> p.builder().monitor(
                        v.startsWith("chardev:") ? chardevMonitor(p.chardevs().claim(v.substring(8), "-monitor " + v))
                                : parseMonitor(v))));
        options.put("qmp", new Option("unix:PATH,server[,wait=off]|tcp:[HOST]:PORT,server[,wait=off]|stdio",
                "a QMP monitor (QEMU's JSON protocol for tools); without wait=off the guest waits for the first client",
                (b, v) -> b.addQmp(QmpSpec.parse(v, false))));
        options.put("qmp-pretty", new Option("unix:PATH,server[,wait=off]|tcp:[HOST]:PORT,server[,wait=off]|stdio",
                "the same, with QEMU's pretty-printed JSON", (b, v) -> b.addQmp(QmpSpec.parse(v, true))));
        options.put("stats", new Option(null, "print each vCPU's exits in user, kernel and guest mode at exit, on stderr"
                + " (-stats [table|json][,file=PATH]: as JSON, into PATH; file=/dev/stdout for stdout)",
                (b, v) -> b.stats(MachineConfig.StatsFormat.TABLE)));
        options.put("exit-trace", new Option("FILE[,limit=N]", "write every exit as a Chrome trace (Perfetto, chrome://tracing);"
                + " FILE.html: a timeline page (limit=N events; default " + TraceSpec.DEFAULT_LIMIT
                + ", for a page " + TraceSpec.DEFAULT_HTML_LIMIT + ")",
                (b, v) -> b.exitTrace(TraceSpec.parse(v))));
        options.put("d", new Option("unimp|cpuid", "log the first access to each unhandled port or MMIO address (unimp);"
                + " how KVM changed the CPUID feature words jkvm set (cpuid)", CommandLine::parseLog));
        options.put("incoming", new Option("file:PATH", "resume the machine a monitor's 'migrate file:PATH' saved"
                + " (the same options as the machine saved)", (b, v) -> { }));
        options.put("mem-prealloc", new Option(null, "touch all guest RAM at start", (b, v) -> b.memPrealloc(true)));
        return Collections.unmodifiableMap(options);
    }

    private CommandLine() {
    }

    /**
     * Parses a command line.
     *
     * @throws JkvmException with QEMU's kind of one-line message for any bad option or value
     */
    public static Invocation parse(String... args) {
        MachineConfig.Builder builder = MachineConfig.builder();
        Path incoming = null;
        Parse parse = new Parse(builder, new ChardevRegistry(), new HashMap<>());
        if (definitions(args, parse) instanceof Invocation listing) {
            return listing;
        }
        Path statsFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new JkvmException(arg + ": invalid option (jkvm takes no positional arguments: a disk image needs a disk,"
                        + " and jkvm has none; boot a kernel with -kernel FILE or a ROM with -bios FILE)");
            }
            String name = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            switch (name) {
                case "h", "help" -> {
                    return new Invocation.Help();
                }
                case "version" -> {
                    return new Invocation.Version();
                }
                default -> {
                }
            }
            if ((name.equals("machine") || name.equals("M") || name.equals("accel") || name.equals("device")) && i + 1 < args.length
                    && (args[i + 1].equals("help") || args[i + 1].equals("?"))) {
                return new Invocation.Listing(switch (name) {
                    case "accel" -> ACCEL_HELP;
                    case "device" -> DeviceOptions.DEVICE_HELP;
                    default -> MACHINE_HELP;
                });
            }
            Option option = OPTIONS.get(name);
            if (option == null) {
                throw new JkvmException(arg + ": invalid option (jkvm -h lists the options)");
            }
            String value = null;
            if (name.equals("incoming")) {
                if (i + 1 >= args.length) {
                    throw new JkvmException(arg + ": requires an argument");
                }
                incoming = parseIncoming(args[++i]);
                continue;
            }
            if (name.equals("stats") && i + 1 < args.length && !args[i + 1].startsWith("-")
                    && !StatsArgument.PATTERN.matcher(args[i + 1]).matches() && args[i + 1].matches("(json|table|file)\\b.*")) {
                throw new JkvmException(arg + " " + args[i + 1] + ": expected json, table or file=PATH (e.g. json,file=s.json)");
            }
            if (name.equals("stats") && i + 1 < args.length && StatsArgument.PATTERN.matcher(args[i + 1]).matches()) {
                String v = args[++i];
                builder.stats(v.startsWith("json") ? MachineConfig.StatsFormat.JSON : MachineConfig.StatsFormat.TABLE);
                int file = v.indexOf("file=");
                if (file >= 0) {
                    statsFile = Path.of(v.substring(file + "file=".length()));
                }
                continue;
            }
            if (option.takesArgument()) {
                if (i + 1 >= args.length) {
                    throw new JkvmException(arg + ": requires an argument");
                }
                value = args[++i];
            }
            try {
                if (option.applyInContext() != null) {
                    option.applyInContext().accept(parse, value);
                } else {
                    option.apply().accept(builder, value);
                }
            } catch (IllegalArgumentException e) {
                throw new JkvmException(arg + " " + value + ": " + e.getMessage());
            }
        }
        MachineConfig config;
        try {
            config = builder.build();
        } catch (IllegalArgumentException e) {
            throw new JkvmException(e.getMessage());
        }
        // -cpu is checked once every -readconfig file is known, wherever it stood on the line. The
        // default model is always there: then the CPU tables are left to the machine, which reads
        // them last, while another thread has them ready (see Main.warmUpInBackground).
        if (!config.cpu().equals(MachineConfig.DEFAULT_CPU) || !config.readConfig().isEmpty()) {
            CpuModels models = config.cpuModels();
            if (CpuOption.isHelp(config.cpu())) {
                return new Invocation.Listing(models.help());
            }
            CpuOption.parse(config.cpu(), models);
        }
        return new Invocation.Run(config, Optional.ofNullable(incoming), Optional.ofNullable(statsFile));
    }

    /** {@code -incoming file:PATH} (QEMU 8.2's file migration); QEMU's other transports are refused. */
    private static Path parseIncoming(String v) {
        if (v.startsWith("file:") && v.length() > 5) {
            return Path.of(v.substring(5).split(",", 2)[0]);
        }
        throw new JkvmException("-incoming " + v + ": jkvm resumes snapshots from files only (file:PATH)");
    }

    private static MachineConfig.MonitorSpec parseMonitor(String v) {
        if (v.equals("stdio")) {
            return new MachineConfig.MonitorSpec.Stdio();
        }
        if (v.equals("none")) {
            return new MachineConfig.MonitorSpec.None();
        }
        // The rest is a chardev, as in QEMU: a server without nowait holds the start until its first client.
        return chardevMonitor(ChardevSpec.legacy(v, "compat_monitor0", "-monitor"));
    }

    /**
     * {@code -machine [type=]pc[,kernel-irqchip=on|off]}: whether the irqchip is in the kernel,
     * empty when the line does not say.
     */
    private static Optional<Boolean> parseMachine(String v) {
        Optional<Boolean> irqchip = Optional.empty();
        for (String item : v.split(",")) {
            if (isVersionedPc(item)) {
                continue; // a versioned name of the same pc machine
            }
            switch (item) {
                case "pc", "type=pc", "" -> {
                }
                case "q35", "type=q35", "microvm", "type=microvm", "isapc", "type=isapc", "none", "type=none" ->
                        throw new JkvmException("-machine " + v + ": jkvm has the pc machine only (i440FX-style: PIIX4 power"
                                + " management, ISA devices), not " + item.replace("type=", ""));
                case "kernel-irqchip=on", "kernel_irqchip=on", "kernel-irqchip=split", "kernel-irqchip=true" ->
                        irqchip = Optional.of(true);
                case "kernel-irqchip=off", "kernel_irqchip=off", "kernel-irqchip=false" -> irqchip = Optional.of(false);
                case "accel=kvm" -> {
                }
                default -> throw new JkvmException("-machine " + v + ": unsupported property '" + item
                        + "' (jkvm has the pc machine, with kernel-irqchip=on|off)");
            }
        }
        return irqchip;
    }

    /** {@code [type=]pc-i440fx-N.N}, read by hand (a harness's -machine, at every start). */
    private static boolean isVersionedPc(String item) {
        String rest = item.startsWith("type=") ? item.substring(5) : item;
        if (!rest.startsWith("pc-i440fx-") || rest.length() == "pc-i440fx-".length()) {
            return false;
        }
        for (int i = "pc-i440fx-".length(); i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        return true;
    }

    /** {@code -accel kvm[,kernel-irqchip=on|off]}: the newer spelling of the machine's KVM options. */
    private static Optional<Boolean> parseAccel(String v) {
        String[] items = v.split(",", 2);
        if (!items[0].equals("kvm")) {
            throw new JkvmException("-accel " + v + ": jkvm runs guests on KVM only, not " + items[0]);
        }
        if (items.length == 1) {
            return Optional.empty();
        }
        for (String item : items[1].split(",")) {
            if (!item.startsWith("kernel-irqchip=") && !item.startsWith("kernel_irqchip=")) {
                throw new JkvmException("-accel " + v + ": unsupported property '" + item + "' (kvm[,kernel-irqchip=on|off])");
            }
        }
        return parseMachine(items[1]);
    }

    private static void parseDisplay(String v) {
        if (!v.equals("none")) {
            throw new JkvmException("-display " + v + ": jkvm has no display (serial ports and the monitor only): use none");
        }
    }

    /** {@code -name [guest=]NAME[,debug-threads=on|off]}: the name. */
    private static String parseName(String v) {
        String name = null;
        for (String item : v.split(",")) {
            if (item.equals("debug-threads=on") || item.equals("debug-threads=off")) {
                continue; // jkvm names its vCPU threads either way
            }
            if (item.startsWith("guest=")) {
                item = item.substring(6);
            } else if (item.contains("=")) {
                throw new JkvmException("-name " + v + ": unsupported property '" + item + "' (NAME[,debug-threads=on|off])");
            }
            if (item.isEmpty() || name != null) {
                throw new JkvmException("-name " + v + ": expected one name");
            }
            name = item;
        }
        if (name == null) {
            throw new JkvmException("-name " + v + ": expected a name");
        }
        return name;
    }

    /**
     * The options QEMU applies before all others, wherever they stand: every {@code -chardev} is
     * defined and every {@code -global} checked (S3, isa-debugcon defaults) before any option uses
     * them. Returns a listing when the line asks for one ({@code -chardev help}), else null.
     */
    private static Invocation definitions(String[] args, Parse parse) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                continue; // refused in the main pass
            }
            String name = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            Option option = OPTIONS.get(name);
            if (option == null || !option.takesArgument() || i + 1 >= args.length) {
                continue;
            }
            String value = args[++i];
            if (name.equals("chardev")) {
                if (value.equals("help") || value.equals("?")) {
                    return new Invocation.Listing("Available chardev backend types:\n  file\n  null\n  socket\n  stdio\n");
                }
                parse.chardevs().define(ChardevSpec.parse(value));
            } else if (name.equals("global")) {
                Boolean s3 = DeviceOptions.global(value, parse.builder(), parse.debugconDefaults());
                if (s3 != null) {
                    parse.builder().s3(s3);
                }
            }
        }
        return null;
    }

    private static void noneOnly(String option, String v, String why) {
        if (!v.equals("none")) {
            throw new JkvmException(option + " " + v + ": " + why + ": only " + option + " none");
        }
    }

    /** {@code -rtc}: what jkvm's CMOS clock does anyway (UTC, the host's clock) is accepted, anything else refused. */
    private static void parseRtc(String v) {
        for (String item : v.split(",")) {
            switch (item) {
                case "base=utc", "clock=host", "driftfix=none", "driftfix=slew" -> {
                }
                default -> throw new JkvmException("-rtc " + v + ": unsupported '" + item
                        + "' (jkvm's CMOS clock is the host's clock in UTC: base=utc, clock=host)");
            }
        }
    }

    /**
     * {@code -mon chardev=ID[,mode=readline|control][,pretty=on|off]}: the human monitor on a chardev,
     * or with {@code mode=control} QMP (on a socket server or stdio chardev, as {@code -qmp} takes).
     */
    private static void parseMon(String v, ChardevRegistry chardevs, MachineConfig.Builder builder) {
        String chardev = null;
        boolean control = false;
        boolean pretty = false;
        for (String item : v.split(",")) {
            if (item.startsWith("chardev=")) {
                chardev = item.substring(8);
            } else if (item.equals("mode=control")) {
                control = true;
            } else if (item.equals("pretty=on")) {
                pretty = true;
            } else if (!item.equals("mode=readline") && !item.equals("pretty=off") && !item.startsWith("id=")) {
                throw new JkvmException("-mon " + v + ": Invalid parameter '" + item + "'");
            }
        }
        if (chardev == null) {
            throw new JkvmException("-mon " + v + ": Parameter 'chardev' is missing");
        }
        ChardevSpec spec = chardevs.claim(chardev, "-mon " + v);
        if (!control) {
            builder.monitor(chardevMonitor(spec));
            return;
        }
        builder.addQmp(switch (spec) {
            case ChardevSpec.Stdio s -> new QmpSpec(QmpSpec.Kind.STDIO, null, "", 0, false, pretty);
            case ChardevSpec.Socket s when s.server() && s.address() instanceof ChardevSpec.Address.Unix u ->
                    new QmpSpec(QmpSpec.Kind.UNIX, u.path(), "", 0, s.waitForClient(), pretty);
            case ChardevSpec.Socket s when s.server() && s.address() instanceof ChardevSpec.Address.Tcp t ->
                    new QmpSpec(QmpSpec.Kind.TCP, null, t.host(), t.port(), s.waitForClient(), pretty);
            default -> throw new JkvmException("-mon " + v + ": mode=control needs a listening socket (server=on) or"
                    + " stdio chardev: jkvm's QMP serves clients, it does not connect out");
        });
    }

    /** The monitor on a chardev: stdio is the plain stdio monitor, anything else a chardev one. */
    private static MachineConfig.MonitorSpec chardevMonitor(ChardevSpec spec) {
        return spec instanceof ChardevSpec.Stdio ? new MachineConfig.MonitorSpec.Stdio()
                : new MachineConfig.MonitorSpec.Chardev(spec);
    }

    private static void parseLog(MachineConfig.Builder b, String v) {
        for (String item : v.split(",")) {
            switch (item) {
                case "unimp" -> b.logUnimplemented(true);
                case "cpuid" -> b.logCpuid(true);
                default -> throw new JkvmException("-d " + v + ": unknown log item '" + item + "' (jkvm logs: unimp, cpuid)");
            }
        }
    }

    private static Duration parseTimeout(String v) {
        try {
            double seconds = Double.parseDouble(v);
            if (seconds > 0 && seconds < 1e9) {
                return Duration.ofNanos((long) (seconds * 1e9));
            }
        } catch (NumberFormatException e) {
            // fall through to the one-line error
        }
        throw new JkvmException("-timeout " + v + ": expected a positive number of seconds");
    }

    /**
     * The first line of {@code -h} and {@code --version}, shaped as QEMU's ({@code QEMU emulator version
     * 7.2.0 ...}) because harnesses parse it as {@code NAME emulator version MAJOR.MINOR.MICRO}: jkvm's own
     * version, the build's full version in parentheses.
     */
    public static String versionLine() {
        String full = Main.version();
        Matcher m = Pattern.compile("^(\\d+)\\.(\\d+)(?:\\.(\\d+))?").matcher(full);
        String numeric = m.find() ? m.group(1) + "." + m.group(2) + "." + (m.group(3) != null ? m.group(3) : "0") : "0.0.0";
        return "jkvm emulator version " + numeric + " (" + full + ")";
    }

    /** The usage text for {@code -h}. */
    public static String usage() {
        StringBuilder sb = new StringBuilder();
        sb.append(versionLine()).append('\n');
        sb.append("usage: jkvm [options]\n\n");
        sb.append("Boots a small x86-64 guest on /dev/kvm. With no options, boots the bundled hello guest.\n");
        sb.append("jkvm is not QEMU: it accepts QEMU's command line (qemu-system-x86_64's options below, as QEMU\n");
        sb.append("spells them) and refuses, in one line, any QEMU option or device it does not have.\n\n");
        String roms = String.join(", ", BundledImages.names(".rom"));
        String kernels = String.join(", ", BundledImages.names(".elf"));
        for (Map.Entry<String, Option> e : OPTIONS.entrySet()) {
            String left = "-" + e.getKey() + (e.getValue().takesArgument() ? " " + e.getValue().argName() : "");
            if (left.length() > 28) {
                sb.append("  ").append(left).append(System.lineSeparator()); // a long syntax gets its own line
                left = "";
            }
            String help = e.getValue().help().replace(BUNDLED_ROMS, roms).replace(BUNDLED_KERNELS, kernels);
            sb.append(String.format("  %-28s %s%n", left, help));
        }
        sb.append(String.format("  %-28s %s%n", "-h, --help", "print this help"));
        sb.append(String.format("  %-28s %s%n", "--version", "print the version"));
        sb.append(String.format("%nExit status: 0 when the guest halts, (v << 1) | 1 when it writes v to the debug-exit port 0x%x,%n",
                Layout.DEBUG_EXIT));
        sb.append(String.format("1 for bad input (or a guest that wrote 0 to 0x%x, as with QEMU), 2 when the guest crashes (triple fault,%n",
                Layout.DEBUG_EXIT));
        sb.append("emulation or entry failure), 124 on -timeout.\n");
        return sb.toString();
    }
}
