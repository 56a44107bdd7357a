package dev.jkvm.vmm;

import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.chardev.ChardevSpec;
import dev.jkvm.vmm.cpu.SmpOption;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.gdb.GdbEndpoint;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.trace.TraceSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.BitSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything that describes one machine, parsed once (from QEMU-style arguments by
 * {@link dev.jkvm.vmm.cli.CommandLine}, or built in Java) and never re-read. The CLI is a thin
 * layer over this record: every flag has its builder method.
 *
 * <pre>{@code
 * MachineConfig config = MachineConfig.builder()
 *         .memory(64 * MemoryMap.MIB)
 *         .topology(new Topology(2, 2, 1, 1, 2, 1))
 *         .firmware(BiosRom.bundled("hello"))
 *         .serial(SerialBackend.stream(out))
 *         .build();
 * }</pre>
 *
 * @param memoryBytes guest RAM ({@code -m}); default 128 MiB
 * @param memPrealloc touch all RAM up front ({@code -mem-prealloc})
 * @param topology vCPUs and their grouping ({@code -smp}); default one vCPU
 * @param cpu the CPU model and feature list ({@code -cpu}); default {@code qemu64}
 * @param firmware the ROM the vCPU starts in ({@code -bios}); default the bundled {@code hello}
 * @param serials the serial ports COM1 to COM4 ({@code -serial}, once per port) and where each one's
 *     output goes and input comes from; default COM1 on standard I/O
 * @param timeout how long {@link Machine#run()} lets the guest run ({@code -timeout}); null for no limit
 * @param vcpuAffinity host CPUs per vCPU index ({@code -vcpu-affinity}); empty for none
 * @param monitor where the monitor listens ({@code -monitor}); default none
 * @param stats the statistics printed at exit ({@code -stats})
 * @param noReboot a guest reset ends jkvm instead of restarting the machine ({@code -no-reboot})
 * @param logUnimplemented log the first access to each unhandled port or MMIO address ({@code -d unimp})
 * @param readConfig {@code [cpudef]} files of user-defined CPU models ({@code -readconfig})
 * @param irqchip the interrupt controllers and PIT in KVM (default); without them
 *     ({@code -machine kernel-irqchip=off}) the machine has one vCPU, no interrupts, and HLT ends
 *     the run: the cheapest VM there is, for tiny test guests and lifecycle measurements
 * @param kernel a kernel to boot directly ({@code -kernel}, {@code -initrd}, {@code -append}):
 *     Multiboot, Linux bzImage or a PVH ELF; empty to start in the firmware ROM
 * @param gdb where the GDB stub listens ({@code -gdb}, {@code -s}); empty for none
 * @param startPaused vCPUs wait before their first instruction ({@code -S}) until the debugger
 *     continues or the monitor's {@code cont}
 * @param acpi the ACPI tables ({@code -no-acpi} leaves them out: the MP table alone describes the machine)
 * @param s3 suspend-to-RAM offered in the DSDT ({@code \_S3}); QEMU's default, off with
 *     {@code -global PIIX4_PM.disable_s3=1}
 * @param name the guest's name ({@code -name}), shown by the monitor's {@code info name}; empty for none
 * @param logCpuid print how the CPUID feature words KVM holds differ from those jkvm set ({@code -d cpuid})
 * @param exitTrace the exit trace file ({@code -exit-trace FILE[,limit=N]}); empty for none
 * @param peripherals the optional devices ({@code -device pc-testdev}, {@code pci-testdev}, {@code isa-debugcon})
 * @param qmp the QMP monitors ({@code -qmp}, {@code -qmp-pretty}); none by default
 * @param userConfig whether the CPU models of the default configuration folder count (false with
 *     {@code -no-user-config}, as QEMU then reads no configuration file of its own)
 */
public record MachineConfig(long memoryBytes, boolean memPrealloc, Topology topology, String cpu, BiosRom firmware,
                            List<SerialBackend> serials, Duration timeout, Map<Integer, BitSet> vcpuAffinity,
                            MonitorSpec monitor, StatsFormat stats, boolean noReboot, boolean logUnimplemented,
                            List<Path> readConfig, boolean irqchip, Optional<Kernel> kernel,
                            Optional<GdbEndpoint> gdb, boolean startPaused, boolean acpi,
                            boolean s3, Optional<String> name, boolean logCpuid,
                            Optional<TraceSpec> exitTrace, Peripherals peripherals,
                            List<QmpSpec> qmp, boolean userConfig) {

    /** QEMU's default for {@code -m}. */
    public static final long DEFAULT_MEMORY = 128 * MemoryMap.MIB;
    /** QEMU's default CPU model on x86-64. */
    public static final String DEFAULT_CPU = "qemu64";

    public MachineConfig {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(cpu, "cpu");
        Objects.requireNonNull(firmware, "firmware");
        serials = List.copyOf(serials);
        if (serials.isEmpty() || serials.size() > 4) {
            throw new JkvmException("-serial: a PC has one to four serial ports, not " + serials.size());
        }
        if (serials.stream().filter(b -> b instanceof SerialBackend.Stdio).count() > 1) {
            throw new JkvmException("-serial stdio: cannot use stdio by multiple character devices");
        }
        Objects.requireNonNull(monitor, "monitor");
        qmp = List.copyOf(qmp);
        long stdio = qmp.stream().filter(q -> q.kind() == QmpSpec.Kind.STDIO).count()
                + (monitor instanceof MonitorSpec.Stdio ? 1 : 0) + serials.stream().filter(b -> b instanceof SerialBackend.Stdio).count();
        if (stdio > 1 && qmp.stream().anyMatch(q -> q.kind() == QmpSpec.Kind.STDIO)) {
            throw new JkvmException("-qmp stdio: cannot use stdio by multiple character devices"
                    + " (add -serial none or -nodefaults)");
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(exitTrace, "exitTrace");
        Objects.requireNonNull(peripherals, "peripherals");
        Objects.requireNonNull(stats, "stats");
        if (memoryBytes <= Layout.HIGH_RAM_START || memoryBytes % MemoryMap.PAGE != 0) {
            throw new JkvmException("memory must be a multiple of 4 KiB above 1 MiB: " + memoryBytes);
        }
        TreeMap<Integer, BitSet> copy = new TreeMap<>();
        vcpuAffinity.forEach((k, v) -> copy.put(k, (BitSet) v.clone()));
        for (int index : copy.keySet()) {
            if (index < 0 || index >= topology.cpus()) {
                throw new JkvmException("-vcpu-affinity: vCPU " + index + " does not exist (the guest has "
                        + topology.cpus() + ")");
            }
        }
        vcpuAffinity = Collections.unmodifiableMap(copy);
        readConfig = List.copyOf(readConfig);
        if (!acpi && s3) {
            throw new JkvmException("-no-acpi: suspend to RAM (PIIX4_PM.disable_s3=0) needs ACPI");
        }
        if (!irqchip && topology.cpus() > 1) {
            throw new JkvmException("kernel-irqchip=off: a machine without interrupt controllers has one vCPU"
                    + " (application processors need INIT/SIPI), not " + topology.cpus());
        }
    }

    /** COM1's backend. */
    public SerialBackend serial() {
        return serials.getFirst();
    }

    /**
     * The CPU models this machine may use: the built-in ones, those in the default configuration
     * folder, and those of the {@code -readconfig} files.
     *
     * @throws dev.jkvm.vmm.cpu.CpuConfigException naming the file and line of a bad definition
     */
    public CpuModels cpuModels() {
        CpuModels models = userConfig ? CpuModels.builtin().withDefaultFolder() : CpuModels.builtin();
        for (Path p : readConfig) {
            models = models.withFile(p);
        }
        return models;
    }

    /**
     * {@code -kernel FILE -initrd FILES -append CMDLINE}.
     *
     * @param image the kernel: a file, or a test kernel bundled with jkvm by name ({@code cpuinfo})
     * @param initrd as QEMU takes it: for Multiboot, comma-separated modules each with arguments; null for none
     * @param append the command line; empty for none
     */
    public record Kernel(String image, String initrd, String append) {
        public Kernel {
            Objects.requireNonNull(image, "image");
            append = append == null ? "" : append;
        }
    }

    /** Where the monitor talks. */
    public sealed interface MonitorSpec {
        /** No monitor. */
        record None() implements MonitorSpec {
        }

        /** On standard input and output ({@code -monitor stdio}). */
        record Stdio() implements MonitorSpec {
        }

        /** On a Unix socket ({@code -monitor unix:PATH,server,nowait}). */
        record Unix(Path path) implements MonitorSpec {
        }

        /** On a chardev ({@code -mon chardev=ID}, {@code -monitor chardev:ID}): a socket, a file, null. */
        record Chardev(ChardevSpec spec) implements MonitorSpec {
        }
    }

    /** What {@code -stats} prints when the guest ends. */
    public enum StatsFormat { NONE, TABLE, JSON }

    /** A builder with every default set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.memoryBytes = memoryBytes;
        b.memPrealloc = memPrealloc;
        b.topology = topology;
        b.cpu = cpu;
        b.firmware = firmware;
        b.serials = new ArrayList<>(serials);
        b.timeout = timeout;
        b.vcpuAffinity = new TreeMap<>(vcpuAffinity);
        b.monitor = monitor;
        b.stats = stats;
        b.noReboot = noReboot;
        b.logUnimplemented = logUnimplemented;
        b.logCpuid = logCpuid;
        b.readConfig = new ArrayList<>(readConfig);
        b.irqchip = irqchip;
        b.kernel = kernel.orElse(null);
        b.initrd = null;
        b.append = null;
        b.gdb = gdb.orElse(null);
        b.startPaused = startPaused;
        b.acpi = acpi;
        b.s3 = s3;
        b.name = name.orElse(null);
        b.exitTrace = exitTrace.orElse(null);
        b.peripherals = peripherals;
        b.qmp = new ArrayList<>(qmp);
        b.userConfig = userConfig;
        return b;
    }

    /** Fluent construction; every setter has the CLI flag it stands for in its doc. */
    public static final class Builder {
        private long memoryBytes = DEFAULT_MEMORY;
        private boolean memPrealloc;
        private Topology topology = Topology.SINGLE;
        private String cpu = DEFAULT_CPU;
        private BiosRom firmware = BiosRom.DEFAULT;
        private List<SerialBackend> serials = new ArrayList<>();
        private Duration timeout;
        private Map<Integer, BitSet> vcpuAffinity = new TreeMap<>();
        private MonitorSpec monitor = new MonitorSpec.None();
        private List<QmpSpec> qmp = new ArrayList<>();
        private boolean userConfig = true;
        private StatsFormat stats = StatsFormat.NONE;
        private boolean noReboot;
        private boolean logUnimplemented;
        private boolean logCpuid;
        private List<Path> readConfig = new ArrayList<>();
        private boolean irqchip = true;
        private Kernel kernel;
        private String initrd;
        private String append;
        private GdbEndpoint gdb;
        private boolean startPaused;
        private boolean acpi = true;
        /** null: QEMU's default (offered when there is ACPI). */
        private Boolean s3;
        private String name;
        private boolean noDefaults;
        private TraceSpec exitTrace;
        private Peripherals peripherals = Peripherals.NONE;

        /** {@code -m}: guest RAM in bytes. */
        public Builder memory(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        /** {@code -mem-prealloc}. */
        public Builder memPrealloc(boolean on) {
            this.memPrealloc = on;
            return this;
        }

        /** {@code -smp}. */
        public Builder topology(Topology topology) {
            this.topology = topology;
            return this;
        }

        /** {@code -smp N}: N vCPUs, grouped as QEMU derives it for a bare count. */
        public Builder cpus(int n) {
            return topology(SmpOption.parse(Integer.toString(n)));
        }

        /** {@code -cpu}: a model name with optional {@code ,+feat,-feat}. */
        public Builder cpu(String cpu) {
            this.cpu = cpu;
            return this;
        }

        /** {@code -bios}. */
        public Builder firmware(BiosRom firmware) {
            this.firmware = firmware;
            return this;
        }

        /** COM1 only, on {@code serial}. */
        public Builder serial(SerialBackend serial) {
            this.serials = new ArrayList<>(List.of(serial));
            return this;
        }

        /** {@code -serial}: the next port (COM1, then COM2, ...). */
        public Builder addSerial(SerialBackend serial) {
            this.serials.add(serial);
            return this;
        }

        /** {@code -timeout}: how long the guest may run; {@code null} for no limit. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** {@code -vcpu-affinity}: pins vCPU {@code index} to {@code hostCpus}. */
        public Builder vcpuAffinity(int index, BitSet hostCpus) {
            this.vcpuAffinity.put(index, (BitSet) hostCpus.clone());
            return this;
        }

        /** {@code -monitor}. */
        public Builder monitor(MonitorSpec monitor) {
            this.monitor = monitor;
            return this;
        }

        /** {@code -stats [json]}. */
        public Builder stats(StatsFormat stats) {
            this.stats = stats;
            return this;
        }

        /** {@code -no-reboot}. */
        public Builder noReboot(boolean on) {
            this.noReboot = on;
            return this;
        }

        /** {@code -d unimp}. */
        public Builder logUnimplemented(boolean on) {
            this.logUnimplemented = on;
            return this;
        }

        /** {@code -d cpuid}. */
        public Builder logCpuid(boolean on) {
            this.logCpuid = on;
            return this;
        }

        /** {@code -readconfig}: a file of {@code [cpudef]} CPU models. */
        public Builder readConfig(Path file) {
            this.readConfig.add(file);
            return this;
        }

        /** {@code -machine kernel-irqchip=on|off}. */
        public Builder irqchip(boolean on) {
            this.irqchip = on;
            return this;
        }

        /** {@code -kernel}, {@code -initrd}, {@code -append}; null to start in the firmware. */
        public Builder kernel(Kernel kernel) {
            this.kernel = kernel;
            return this;
        }

        /** {@code -kernel FILE} with no initrd and no command line. */
        public Builder kernel(String image) {
            return kernel(new Kernel(image, null, ""));
        }

        /** {@code -kernel FILE}, keeping {@code -initrd} and {@code -append} given before or after it. */
        public Builder kernelImage(String image) {
            this.kernel = new Kernel(image, null, "");
            return this;
        }

        /** {@code -initrd}: only with a kernel. */
        public Builder initrd(String initrd) {
            this.initrd = initrd;
            return this;
        }

        /** {@code -append}: only with a kernel. */
        public Builder append(String append) {
            this.append = append;
            return this;
        }

        /** {@code -gdb DEV}, {@code -s} (= tcp::1234); null for no debugger. */
        public Builder gdb(GdbEndpoint endpoint) {
            this.gdb = endpoint;
            return this;
        }

        /** {@code -no-acpi} (false): no ACPI tables. */
        public Builder acpi(boolean on) {
            this.acpi = on;
            return this;
        }

        /** {@code -global PIIX4_PM.disable_s3=0|1}: offer suspend-to-RAM or not (default: offered with ACPI). */
        public Builder s3(boolean offered) {
            this.s3 = offered;
            return this;
        }

        /** {@code -name}: the guest's name ({@code info name}); null for none. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** {@code -exit-trace FILE[,limit=N]}: the exit trace (Chrome trace JSON, or HTML by the name); null for none. */
        public Builder exitTrace(TraceSpec spec) {
            this.exitTrace = spec;
            return this;
        }

        /**
         * {@code -nodefaults}: no default serial backend. Without a {@code -serial}, COM1 is still
         * there (a PC's 16550A at 0x3f8) but connected to nothing, where QEMU leaves the port out.
         */
        public Builder noDefaults(boolean on) {
            this.noDefaults = on;
            return this;
        }

        /** {@code -device pc-testdev}, {@code -device pci-testdev}, {@code -device isa-debugcon}, {@code -debugcon}. */
        public Builder peripherals(Peripherals peripherals) {
            this.peripherals = Objects.requireNonNull(peripherals, "peripherals");
            return this;
        }

        /** The optional devices so far. */
        public Peripherals peripherals() {
            return peripherals;
        }

        /** {@code -qmp}, {@code -qmp-pretty}, {@code -mon chardev=ID,mode=control}: one more QMP monitor. */
        /** {@code -no-user-config}: the default folder's CPU models do not count ({@code -readconfig} files still do). */
        public Builder userConfig(boolean on) {
            this.userConfig = on;
            return this;
        }

        public Builder addQmp(QmpSpec spec) {
            this.qmp.add(spec);
            return this;
        }

        /** {@code -S}. */
        public Builder startPaused(boolean on) {
            this.startPaused = on;
            return this;
        }

        public MachineConfig build() {
            if (kernel == null && (initrd != null || append != null)) {
                throw new JkvmException((initrd != null ? "-initrd" : "-append") + " only allowed with -kernel option");
            }
            if (kernel != null && (initrd != null || append != null)) {
                kernel = new Kernel(kernel.image(), initrd != null ? initrd : kernel.initrd(),
                        append != null ? append : kernel.append());
            }
            return new MachineConfig(memoryBytes, memPrealloc, topology, cpu, firmware,
                    serials.isEmpty() ? List.of(noDefaults ? SerialBackend.none() : SerialBackend.stdio()) : serials,
                    timeout, vcpuAffinity, monitor, stats, noReboot, logUnimplemented, readConfig, irqchip,
                    Optional.ofNullable(kernel), Optional.ofNullable(gdb), startPaused, acpi, s3 != null ? s3 : acpi,
                    Optional.ofNullable(name), logCpuid, Optional.ofNullable(exitTrace), peripherals, qmp, userConfig);
        }
    }
}
