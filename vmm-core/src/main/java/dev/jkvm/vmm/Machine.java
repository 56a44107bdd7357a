package dev.jkvm.vmm;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.SystemControl;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.KvmStats;
import dev.jkvm.kvm.Regs;
import dev.jkvm.vmm.board.PcDevices;
import dev.jkvm.vmm.board.UnimplementedLog;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.vmm.boot.BootEntry;
import dev.jkvm.vmm.boot.BootRequest;
import dev.jkvm.vmm.boot.KernelImage;
import dev.jkvm.vmm.boot.KernelLoader;
import dev.jkvm.vmm.boot.KernelSymbols;
import dev.jkvm.vmm.boot.KernelVariables;
import dev.jkvm.vmm.boot.RomImage;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.cpu.CpuOption;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.cpu.CpuFeatureTable;
import dev.jkvm.vmm.cpu.CpuidReadback;
import dev.jkvm.vmm.firmware.BiosDataArea;
import dev.jkvm.vmm.firmware.FirmwareTables;
import dev.jkvm.vmm.gdb.GdbServer;
import dev.jkvm.vmm.gdb.GdbStub;
import dev.jkvm.vmm.gdb.MachineDebugTarget;
import dev.jkvm.vmm.host.StartupPhases;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestMemoryException;
import dev.jkvm.vmm.memory.GuestView;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.serial.SerialConsole;
import dev.jkvm.vmm.snapshot.MachineSnapshots;
import dev.jkvm.vmm.snapshot.RestoreStats;
import dev.jkvm.vmm.snapshot.Snapshot;
import dev.jkvm.vmm.serial.SerialSocket;
import dev.jkvm.vmm.chardev.ChardevEndpoint;
import dev.jkvm.devices.PcTestdev;
import dev.jkvm.devices.PciTestdev;
import dev.jkvm.vmm.stats.VcpuCounters;
import dev.jkvm.vmm.stats.VcpuReport;
import dev.jkvm.vmm.trace.ExitTrace;
import dev.jkvm.vmm.trace.TraceRing;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VmSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One virtual machine: it owns every resource it creates (guest memory, devices, the KVM VM and
 * its vCPU threads) and {@link #close()} releases them all, whatever the guest is doing. The CLI is
 * a thin layer over this class.
 *
 * <pre>{@code
 * try (Machine m = Machine.create(MachineConfig.builder().serial(SerialBackend.none()).build())) {
 *     RunResult r = m.run();
 *     System.out.println(m.serial().transcript());
 * }
 * }</pre>
 *
 * <p>A guest reset (keyboard controller, port 0x92, 0xcf9, a triple fault) ends the current
 * {@link VmSession}; the machine resets its devices and starts a new session over the same memory,
 * unless {@code -no-reboot} asked it to end instead. Many machines may live in one JVM at once;
 * they share only the {@code /dev/kvm} handle.
 */
public final class Machine implements AutoCloseable {

    /** How often the machine looks for vCPUs halted for good, at most. */
    private static final Duration HALT_WATCH_PERIOD = Duration.ofMillis(100);
    /** The first look comes soon: a tiny guest is often done in milliseconds. */
    private static final Duration HALT_WATCH_FIRST = Duration.ofMillis(2);
    /** How long a vCPU may take to answer a request (registers, state) from another thread. */
    public static final Duration VCPU_ANSWER_TIMEOUT = Duration.ofSeconds(2);
    /** How long the end of a run waits for a vCPU thread to leave after the run ended (they take microseconds). */
    static final Duration VCPU_JOIN_TIMEOUT = Duration.ofSeconds(2);

    private final MachineConfig config;
    private final Kvm kvm;
    private final GuestMemory memory;
    private final PortBus ports = new PortBus();
    private final MmioBus mmio = new MmioBus();
    private final List<SerialConsole> consoles = new ArrayList<>();
    private final List<AutoCloseable> serialBackends = new ArrayList<>();
    private final PcDevices devices;
    private final CpuidPlan cpuid;
    private final PlatformDescription platform;
    private final FirmwareTables tables;
    /** Where the BIOS-area copy of the RSDP goes (kernel boots with ACPI), found once so resets reuse it. */
    private final java.util.OptionalLong biosRsdp;
    private final E820 e820;
    private final KernelImage kernel;
    private KernelVariables variables;
    private volatile GuestView guest;
    private CpuidReadback cpuidReadback = new CpuidReadback(List.of());
    private CpuOption cpuOption;
    private final GdbStub gdbStub;
    private GdbServer gdbServer;
    private final List<VcpuCounters> counters = new ArrayList<>();
    private final ExitTrace trace;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Object sessionLock = new Object();
    private volatile VmSession session;
    private volatile RunResult stopRequest;
    private volatile boolean suspended;
    private final Object wakeLock = new Object();
    private boolean wakeRequested;
    private volatile RunResult finalResult;
    private volatile Consumer<String> log = line -> { };
    private final List<Consumer<MachineEvent>> eventListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Runnable> endListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Set by {@link #systemReset()}: the next reset is the host's, not the guest's. */
    private volatile boolean hostReset;
    /** Whether the vCPUs ever ran freely: false while {@code -S} holds them (QEMU's prelaunch). */
    private volatile boolean launched;
    private Thread supervisor;
    private static final String SUPERVISOR_NAME = "jkvm machine";
    /** When the caller's own thread supervises ({@link #run} before {@link #start}): its time limit. */
    private long deadline = Long.MAX_VALUE;
    private RunResult deadlineResult;
    private boolean closed;
    private int resets;
    /** Snapshots and restores (they serialise on it; taken before sessionLock). */
    private MachineSnapshots snapshots;
    /** A vCPU thread did not end when the run did: its descriptors and the guest memory stay until the process exits. */
    private volatile boolean vcpusLeftBehind;
    /** The optional test devices ({@code -device}), null when the machine has none. */
    private PcTestdev pcTestdev;
    private PciTestdev pciTestdev;

    private Machine(MachineConfig config) {
        this(config, true);
    }

    /** @param boot write the firmware tables and load the kernel (not when a snapshot's memory replaces them) */
    private Machine(MachineConfig config, boolean boot) {
        this.config = config;
        GuestMemory mem = null;
        PcDevices devs = null;
        KernelImage kern = null;
        try {
            RomImage rom = config.firmware().load(); // a bad image is reported even without KVM
            CpuModels models = config.cpuModels();
            CpuOption option = CpuOption.parse(config.cpu(), models);
            cpuOption = option;
            StartupPhases.mark("  firmware read, CPU model parsed");
            kvm = SharedKvm.get();
            StartupPhases.mark("  /dev/kvm opened, supported CPUID");
            // Built-in models show the host's vendor, as QEMU's do under KVM (vendor= overrides it).
            dev.jkvm.vmm.cpu.HostCpuid host = dev.jkvm.vmm.cpu.HostCpuid.of(kvm.supportedCpuid(), config.irqchip());
            if (models.require(option.model()).kind().fromHost() && host.brand().isEmpty()) {
                host = host.withBrand(dev.jkvm.vmm.host.HostCpus.modelName()); // host/max: the host's brand, as QEMU
            }
            cpuid = CpuidPlan.create(option, models, config.topology(), host, true);
            MemoryMap map = MemoryMap.pc(config.memoryBytes(), rom.bytes().length);
            mem = new GuestMemory(map, rom.bytes());
            memory = mem;
            StartupPhases.mark("  CPUID plan, guest memory mapped");
            if (config.memPrealloc()) {
                memory.prealloc();
            }
            List<java.io.OutputStream> sinks = new ArrayList<>();
            for (SerialBackend b : config.serials()) {
                // none, unix, chardev: no stream of their own (a socket forwards to its client once listening)
                java.io.OutputStream sink = b instanceof SerialBackend.None || b instanceof SerialBackend.Unix
                        || b instanceof SerialBackend.Chardev ? null : b.openSink();
                if (b instanceof SerialBackend.File) {
                    serialBackends.add(sink);
                }
                SerialConsole console = new SerialConsole("COM" + (consoles.size() + 1), sink);
                consoles.add(console);
                sinks.add(console.uartSink());
            }
            devs = new PcDevices(ports, mmio, this::irqLine, systemControl(), sinks, map, config.topology(),
                    status -> stop(RunResult.of(RunResult.Reason.DEBUG_EXIT, status,
                            "the guest wrote " + (status >> 1) + " to the debug-exit port")), new PcDevices.Sleep() {
                        @Override
                        public boolean suspended() {
                            return suspended;
                        }

                        @Override
                        public void wake() {
                            wakeup();
                        }
                    });
            devices = devs;
            StartupPhases.mark("  devices and serial consoles");
            for (int i = 0; i < consoles.size(); i++) {
                consoles.get(i).attach(devices.com(i));
                if (config.serials().get(i) instanceof SerialBackend.Chardev c) {
                    SerialConsole console = consoles.get(i);
                    ChardevEndpoint endpoint = ChardevEndpoint.open(c.spec(), "-serial chardev:" + c.spec().id(),
                            (in, out) -> {
                                byte[] buf = new byte[512];
                                int n;
                                while ((n = in.read(buf)) > 0) {
                                    console.send(buf, 0, n); // waits while the guest has not read: backpressure
                                }
                            }, System.err::println);
                    serialBackends.add(endpoint);
                    console.forwardTo(endpoint.sink());
                }
                if (config.serials().get(i) instanceof SerialBackend.Unix u) {
                    // QEMU's line from "QEMU waiting" on, word for word: scripts wait for it before they connect
                    SerialSocket socket;
                    try {
                        socket = SerialSocket.listen(u.path(), consoles.get(i), u.waitForClient(),
                                () -> System.err.println("jkvm: info: QEMU waiting for connection on: disconnected:unix:" + u.path() + ",server=on"));
                    } catch (java.io.IOException e) {
                        throw new JkvmException("-serial unix:" + u.path() + ": cannot listen: " + e.getMessage(), e);
                    }
                    serialBackends.add(socket);
                }
            }
            addPeripherals(config.peripherals(), mem);
            if (config.logUnimplemented()) {
                UnimplementedLog unimp = new UnimplementedLog(line -> log.accept(line));
                ports.setUnhandledAccessListener(unimp::port);
                mmio.setUnhandledAccessListener(unimp::mmio);
            }
            platform = PlatformDescription.pc(config.topology(), map).withS3(config.s3())
                    .withSerialPorts(java.util.stream.IntStream.range(0, config.serials().size())
                            .mapToObj(dev.jkvm.vmm.firmware.SerialPort::com).toList());
            tables = FirmwareTables.layOut(platform, config.acpi(), true);
            e820 = E820.pc(map, tables.reservedBase());
            devices.fwCfg().addFile("etc/e820", e820.fwCfg());
            StartupPhases.mark("  firmware tables and e820 laid out");
            gdbStub = config.gdb().isPresent()
                    ? new GdbStub(new MachineDebugTarget(this), config.startPaused(), line -> log.accept("jkvm: " + line))
                    : null;
            kern = config.kernel().map(k -> KernelImage.resolve(k.image())).orElse(null);
            kernel = kern;
            // A kernel boot never runs the ROM's code: its free bytes in the F segment take a copy of the RSDP.
            biosRsdp = kern != null && tables.rsdpBytes().isPresent()
                    ? dev.jkvm.vmm.firmware.BiosAreaRsdp.findRoom(mem, tables.rsdpBytes().get().length)
                    : java.util.OptionalLong.empty();
            List<String> tracks = new ArrayList<>();
            for (int i = 0; i < config.topology().cpus(); i++) {
                counters.add(new VcpuCounters());
                tracks.add("CPU " + i + "/KVM");
            }
            trace = new ExitTrace(config.exitTrace(), "jkvm: " + guestName(config), tracks, ports, mmio, line -> log.accept(line));
            session = newSession(boot);
            StartupPhases.mark("  VM, vCPUs, tables written, kernel loaded");
            cpuidReadback = CpuidReadback.compare(cpuid.entriesFor(0), session.vcpus().get(0).fd().cpuid());
            if (config.startPaused() && gdbStub == null) {
                session.control().holdAtStart();
            }
            if (gdbStub != null) {
                gdbServer = GdbServer.start(config.gdb().orElseThrow(), gdbStub, line -> log.accept("jkvm: " + line));
            }
            startTrace();
            snapshots = new MachineSnapshots(this, kvm, () -> session, pcTestdev, pciTestdev, line -> log.accept(line));
        } catch (KvmException e) {
            consoles.forEach(SerialConsole::close);
            serialBackends.forEach(b -> closeQuietly(b));
            closeQuietly(gdbServer, kern, devs, mem);
            throw new JkvmException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            consoles.forEach(SerialConsole::close);
            serialBackends.forEach(b -> closeQuietly(b));
            closeQuietly(gdbServer, session, kern, devs, mem);
            throw e;
        }
    }

    /** {@code -exit-trace FILE}: the file is created now, so a path that cannot be written is said before the guest runs. */
    private void startTrace() {
        try {
            trace.start();
        } catch (java.io.IOException e) {
            String why = switch (e) {
                case java.nio.file.NoSuchFileException n -> "no such directory";
                case java.nio.file.AccessDeniedException a -> "permission denied";
                case java.nio.file.FileSystemException f -> f.getReason() != null ? f.getReason() : f.getMessage();
                default -> e.getMessage();
            };
            throw new JkvmException("-exit-trace " + config.exitTrace().orElseThrow().path() + ": cannot write: " + why, e);
        }
    }

    /** The guest's name as the trace shows it: {@code -name}, else the kernel's or ROM's file name. */
    private static String guestName(MachineConfig config) {
        if (config.name().isPresent()) {
            return config.name().get();
        }
        if (config.kernel().isPresent()) {
            java.nio.file.Path p = java.nio.file.Path.of(config.kernel().get().image()).getFileName();
            return p == null ? config.kernel().get().image() : p.toString();
        }
        return switch (config.firmware()) {
            case BiosRom.Bundled b -> b.name();
            case BiosRom.File f -> {
                String n = f.path().getFileName() == null ? f.path().toString() : f.path().getFileName().toString();
                yield n.endsWith(".rom") ? n.substring(0, n.length() - 4) : n;
            }
        };
    }

    /** Points the trace at the vCPUs of power-on {@code s} (each records into its ring while tracing is on). */
    private void attachTrace(VmSession s) {
        List<Vcpu> vcpus = s.vcpus();
        trace.attach(rings -> {
            for (Vcpu v : vcpus) {
                if (rings != null) {
                    try {
                        // KVM_GET_STATS_FD waits for the vCPU to leave KVM_RUN: ask its own thread.
                        v.call(fd -> s.stats(v.index()), VCPU_ANSWER_TIMEOUT);
                    } catch (IllegalStateException e) {
                        // not answering: the trace then lacks this vCPU's KVM counters
                    }
                }
                v.traceInto(rings == null ? null : rings[v.index()]);
            }
        }, s::readOpenStats);
    }

    /** The exit trace ({@code -exit-trace}, the monitor's {@code trace-file}). */
    public ExitTrace exitTrace() {
        return trace;
    }

    /** {@code -device pc-testdev}, {@code pci-testdev}, {@code isa-debugcon}: on the buses where QEMU puts them. */
    private void addPeripherals(Peripherals p, GuestMemory mem) {
        for (Peripherals.Debugcon d : p.debugcons()) {
            ChardevEndpoint endpoint = ChardevEndpoint.open(d.backend(), "isa-debugcon", null, System.err::println);
            serialBackends.add(endpoint);
            try {
                devices.addDebugcon(d.iobase(), d.readback(), endpoint.sink());
            } catch (IllegalArgumentException e) {
                throw new JkvmException(String.format("-device isa-debugcon,iobase=0x%x: %s", d.iobase(), e.getMessage()));
            }
        }
        try {
            if (p.pcTestdev()) {
                pcTestdev = devices.addPcTestdev(mem::flushPage);
            }
            if (p.pciTestdev()) {
                pciTestdev = devices.addPciTestdev();
            }
        } catch (IllegalArgumentException e) {
            throw new JkvmException("-device: " + e.getMessage());
        }
    }

    private static void closeQuietly(AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r != null) {
                try {
                    r.close();
                } catch (Exception ignored) {
                    // already failing: the first error is the one to report
                }
            }
        }
    }

    /**
     * Builds a machine from {@code config}: memory, devices, the KVM VM and its vCPUs, the firmware
     * tables. Nothing runs yet.
     *
     * @throws JkvmException for anything the user can fix (no KVM, a bad image, a CPU model KVM
     *     cannot provide with {@code enforce})
     */
    public static Machine create(MachineConfig config) {
        return new Machine(config);
    }

    /**
     * Builds a machine from {@code config} and puts {@code snapshot} into it: when it starts, the
     * guest goes on where the snapshot was taken.
     *
     * @throws JkvmException when the snapshot is of another machine (one line saying how it differs)
     */
    public static Machine create(MachineConfig config, Snapshot snapshot) {
        Machine m = new Machine(config, false); // the snapshot's memory holds the tables and whatever it booted
        try {
            m.restore(snapshot);
            return m;
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    /**
     * Saves the machine: the vCPUs are paused for the copy, then resumed as they were (a paused
     * machine stays paused). From here KVM logs the pages the guest writes, so a {@link #restore}
     * of this snapshot copies back only those.
     *
     * @throws JkvmException when a vCPU does not stop in time
     */
    public Snapshot snapshot() {
        return snapshots.snapshot();
    }

    /**
     * Puts this live machine back to {@code snapshot}, in place: memory (only the pages the guest
     * wrote since, when the memory last equalled this snapshot), every vCPU, the interrupt
     * controllers, PIT and kvmclock, every device. A running machine is paused for it and goes on
     * from the snapshot; a paused one stays paused.
     *
     * @throws JkvmException when the snapshot is of another machine (nothing is changed then)
     * @throws IllegalStateException when the run has ended (create a machine from the snapshot instead)
     */
    public void restore(Snapshot snapshot) {
        snapshots.restore(snapshot);
    }

    /** How the last restore went, or null before the first. */
    public RestoreStats lastRestore() {
        return snapshots.lastRestore();
    }

    /** The MSRs KVM took on save but refused on restore (this host's KVM cannot restore them), sorted. */
    public List<Integer> refusedMsrs() {
        return snapshots.refusedMsrs();
    }

    /** A new VM over this machine's memory and devices, with the firmware tables and boot state written. */
    private VmSession newSession(boolean boot) {
        VmSession s = new VmSession(kvm, memory, ports, mmio, cpuid, counters, config.vcpuAffinity(), config.irqchip(),
                gdbStub);
        try {
            if (!boot) {
                attachTrace(s);
                return s;
            }
            tables.writeTo(memory);
            BiosDataArea.write(memory, tables);
            if (kernel != null && biosRsdp.isPresent()) {
                memory.write(biosRsdp.getAsLong(), tables.rsdpBytes().orElseThrow());
            }
            if (kernel != null) {
                MachineConfig.Kernel k = config.kernel().orElseThrow();
                BootRequest request = new BootRequest(kernel.path(), k.initrd(), k.append());
                if (tables.rsdpAddress().isPresent()) {
                    request = request.withAcpiRsdp(tables.rsdpAddress().getAsLong());
                }
                BootEntry entry = KernelLoader.load(request, memory, e820);
                VcpuFd bsp = s.vcpus().get(0).fd();
                bsp.setSregs(entry.applyTo(bsp.sregs()));
                bsp.setRegs(entry.regs());
            }
            attachTrace(s);
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }

    private SystemControl systemControl() {
        return new SystemControl() {
            @Override
            public void reset() {
                session.control().end(RunResult.of(RunResult.Reason.RESET, 0, "the guest reset the machine"));
            }

            @Override
            public void powerOff() {
                stop(RunResult.of(RunResult.Reason.POWER_OFF, 0, "the guest powered off"));
            }

            @Override
            public void sleep(int slpTyp) {
                if (slpTyp == 0) { // \_S5 in jkvm's DSDT
                    powerOff();
                } else if (slpTyp == 1 && config.s3()) { // \_S3
                    session.control().end(RunResult.of(RunResult.Reason.SUSPEND, 0, "the guest suspended to RAM"));
                } else {
                    log.accept("jkvm: the guest asked for sleep state type " + slpTyp + ", which this machine does not offer");
                }
            }
        };
    }

    /** ISA IRQ (or GSI) {@code irq} of the current power-on's interrupt controller (the board wakes S3 on the RTC's). */
    private IrqLine irqLine(int irq) {
        return level -> {
            VmSession s = session;
            if (s != null) {
                s.irqLine(irq, level);
            }
        };
    }

    /** Whether the guest is suspended to RAM (ACPI S3), waiting for a wake event. */
    public boolean suspended() {
        return suspended;
    }

    /** A wake event ({@code system_wakeup}, the RTC alarm, the power button) for a suspended guest; ignored otherwise. */
    public void wakeup() {
        synchronized (wakeLock) {
            wakeRequested = true;
            wakeLock.notifyAll();
        }
    }

    /**
     * Adds a listener for what happens to the machine (pauses, resets, the end): called on the
     * thread that made it happen, so it must return at once (QMP queues and drops, never blocks).
     */
    public void onEvent(Consumer<MachineEvent> listener) {
        eventListeners.add(listener);
    }

    private void emit(MachineEvent e) {
        for (Consumer<MachineEvent> l : eventListeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ignored) {
                // a listener's failure is no reason to disturb the guest
            }
        }
    }

    /** Runs {@code action} once the run has ended (on the thread that saw it end; it must return at once). */
    public void whenEnded(Runnable action) {
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable once = () -> {
            if (ran.compareAndSet(false, true)) {
                action.run();
            }
        };
        endListeners.add(once);
        if (finalResult != null) {
            once.run();
        }
    }

    /** The host resets the machine (QMP's and the monitor's {@code system_reset}), as the reset control register would. */
    public void systemReset() {
        hostReset = true;
        devices.requestReset();
    }

    /** The power button (QMP's {@code system_powerdown}): an ACPI guest shuts itself down; a suspended one wakes. */
    public void powerdown() {
        emit(new MachineEvent.Powerdown());
        if (suspended) {
            wakeup();
        } else {
            devices.pm().pressPowerButton();
        }
    }

    /** Whether the vCPUs ran freely at some point: false while {@code -S} still holds them. */
    public boolean launched() {
        return launched || !(config.startPaused() && gdbStub == null);
    }

    /** Where the machine reports what happens along the way (resets, unimplemented accesses); default nowhere. */
    public void onLog(Consumer<String> sink) {
        this.log = line -> {
            if (Thread.currentThread() == supervisor) {
                flushSerial(); // the guest output that came before a line of ours comes before it (not on a vCPU: it may not wait)
            }
            sink.accept(line);
        };
    }

    /** How long the end of a run waits for a serial sink that writes nothing: one that stopped reading loses the rest. */
    private static final long SERIAL_FLUSH_QUIET_MILLIS = 100;

    /** Hands the guest's output so far to every serial sink, waiting only while they take it. */
    private void flushSerial() {
        for (SerialConsole c : consoles) {
            c.flush(SERIAL_FLUSH_QUIET_MILLIS);
        }
    }

    /**
     * The CPUID warnings, once: features this host's KVM cannot provide (dropped, in QEMU's words),
     * and one line when KVM replaced the feature bits jkvm set in a way that contradicts what the
     * {@code -cpu} option asked for (nothing for host/max, or the default model without features).
     */
    public List<String> warnings() {
        List<String> all = new ArrayList<>(cpuid.warnings());
        boolean defaultModel = cpuOption.model().equals(CpuOption.DEFAULT_MODEL);
        cpuidReadback.warning(cpuOption, cpuid.fromHost(), defaultModel, CpuFeatureTable.standard())
                .ifPresent(all::add);
        return all;
    }

    /** {@code -d cpuid}: each feature word KVM holds differently from what jkvm set, with the bits by name. */
    public List<String> cpuidDetails() {
        return cpuidReadback.details(CpuFeatureTable.standard());
    }

    /** Whether this host's KVM kept the CPUID feature bits jkvm set (stock KVM does; kvm_pvm does not). */
    public boolean cpuidFeaturesHonoured() {
        return cpuidReadback.honoured();
    }

    /** The configuration this machine was built from. */
    public MachineConfig config() {
        return config;
    }

    /** The guest's memory, for inspection. */
    public GuestMemory memory() {
        return memory;
    }

    /** COM1, host side: the transcript, line waits, input. */
    public SerialConsole serial() {
        return consoles.getFirst();
    }

    /** COM{@code n + 1}, host side. */
    public SerialConsole serial(int n) {
        return consoles.get(n);
    }

    /** The guest's e820 map, as every table and loader gives it. */
    public E820 e820() {
        return e820;
    }

    /** The firmware tables (MP, ACPI) and where they are. */
    public FirmwareTables tables() {
        return tables;
    }

    /** The legacy devices. */
    public PcDevices devices() {
        return devices;
    }

    /** The port-I/O bus, where a test may add its own device before {@link #start()}. */
    public PortBus ports() {
        return ports;
    }

    /** The MMIO bus. */
    public MmioBus mmio() {
        return mmio;
    }

    /** The TCP port the GDB stub listens on, when it listens on one ({@code -gdb tcp::0} picks a free port). */
    public java.util.OptionalInt gdbPort() {
        return gdbServer == null || gdbServer.port() <= 0 ? java.util.OptionalInt.empty()
                : java.util.OptionalInt.of(gdbServer.port());
    }

    /** The CPUs the guest was given. */
    public CpuidPlan cpuid() {
        return cpuid;
    }

    /** Drives input {@code irq} of the in-kernel interrupt controller (for devices a test adds). */
    public void setIrq(int irq, boolean level) {
        irqLine(irq).set(level);
    }

    /**
     * ISA interrupt {@code irq} as a line a device drives (a device a test adds raises it, the
     * in-kernel PIC and I/O APIC deliver it).
     *
     * <pre>{@code
     * IrqLine line = machine.irq(5);
     * machine.ports().register(0x300, 4, new MyDevice(line));
     * }</pre>
     */
    public IrqLine irq(int irq) {
        return irqLine(irq);
    }

    /** Guest memory as the embedding API, the monitor and QMP see it (vCPU registers asked of their threads). */
    public GuestView guest() {
        GuestView g = guest;
        if (g == null) { // two threads may both build one: the views are the same
            g = new GuestView(memory, cpu -> vcpus().get(cpu).call(fd -> fd.sregs(), VCPU_ANSWER_TIMEOUT));
            guest = g;
        }
        return g;
    }

    /** The {@code -kernel}'s variables by name (its symbol table read on first use). */
    public synchronized KernelVariables variables() {
        if (variables == null) {
            variables = new KernelVariables(Optional.ofNullable(kernel).map(KernelImage::path), guest());
        }
        return variables;
    }

    /** {@link GuestView#readPhysical}: RAM or ROM, else a {@link GuestMemoryException}. */
    public byte[] readPhysical(long gpa, int length) {
        return guest().readPhysical(gpa, length);
    }

    /** {@link GuestView#writePhysical}. */
    public void writePhysical(long gpa, byte[] data) {
        guest().writePhysical(gpa, data);
    }

    /** {@link GuestView#readVirtual}: through vCPU {@code vcpu}'s page tables now, page by page. */
    public byte[] readVirtual(int vcpu, long gva, int length) {
        return guest().readVirtual(vcpu, gva, length);
    }

    /** {@link KernelVariables#symbols}: empty without a kernel, for a flat image or a stripped kernel. */
    public KernelSymbols symbols() {
        return variables().symbols();
    }

    /** {@link KernelVariables#symbol}: its link-time address, size and kind. */
    public KernelSymbols.Symbol symbol(String name) {
        return variables().symbol(name);
    }

    /** {@link KernelVariables#read(String)}: as many bytes as the symbol's size. */
    public byte[] readSymbol(String name) {
        return variables().read(name);
    }

    /** {@link KernelVariables#read(String, int)}. */
    public byte[] readSymbol(String name, int length) {
        return variables().read(name, length);
    }

    /** {@link KernelVariables#value}, e.g. {@code machine.readSymbolValue("ap_finished")}. */
    public long readSymbolValue(String name) {
        return variables().value(name);
    }

    /** {@link KernelVariables#write}: in the segment the loader put the symbol in. */
    public void writeSymbol(String name, byte[] data) {
        variables().write(name, data);
    }

    /** The general registers of vCPU {@code vcpu} (asked of its thread when it runs). */
    public Regs registers(int vcpu) {
        return vcpus().get(vcpu).call(fd -> fd.regs(), VCPU_ANSWER_TIMEOUT);
    }

    /** The vCPUs of the current power-on, in index order. */
    public List<Vcpu> vcpus() {
        return session.vcpus();
    }

    /** How many times the guest reset the machine so far. */
    public synchronized int resets() {
        return resets;
    }

    /**
     * KVM's binary statistics of vCPU {@code vcpu} in the current power-on (opened on first use),
     * or null when KVM has none; synchronize on it while reading.
     */
    public KvmStats kvmStats(int vcpu) {
        return session.stats(vcpu);
    }

    /** KVM's binary statistics of the VM itself, or null when KVM has none; synchronize on it while reading. */
    public KvmStats kvmVmStats() {
        return session.vmStats();
    }

    /** Each vCPU's three modes now (or as they ended): exits in user and kernel mode, guest time. */
    public List<VcpuReport> reports() {
        return reports(true);
    }

    /** @param kvmStats also read KVM's counters (opening its statistics files if nobody did yet) */
    private List<VcpuReport> reports(boolean kvmStats) {
        VmSession s = session;
        List<VcpuReport> out = new ArrayList<>();
        List<Vcpu> vcpus = s.vcpus();
        for (int i = 0; i < vcpus.size(); i++) {
            Vcpu v = vcpus.get(i);
            KvmStats st = kvmStats ? s.stats(i) : s.statsIfOpen(i);
            Map<String, Long> kvmCounters = Map.of();
            if (st != null) {
                synchronized (st) {
                    try {
                        kvmCounters = st.read();
                    } catch (KvmException e) {
                        // the session closed meanwhile
                    }
                }
            }
            out.add(new VcpuReport(v.index(), v.threadName(), v.threadId(), v.counters().snapshot(), kvmCounters, v.times()));
        }
        return out;
    }

    /** Starts the vCPU threads (once) and the thread that watches the run and reboots on reset. */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("machine is closed");
        }
        if (supervisor != null) {
            return;
        }
        supervisor = Thread.ofPlatform().name(SUPERVISOR_NAME).daemon(true).start(this::supervise);
    }

    /** The triple fault whose report the reset already logged: the run's end does not repeat it. */
    private volatile dev.jkvm.vmm.vcpu.ExitReport loggedTripleFault;

    /**
     * Whether {@code report} is the same fault (vCPU, exit, RIP) as the one logged when the machine
     * reset after it: the CLI then says so in one line instead of printing the report twice.
     */
    public boolean reportLoggedAtReset(dev.jkvm.vmm.vcpu.ExitReport report) {
        dev.jkvm.vmm.vcpu.ExitReport l = loggedTripleFault;
        return l != null && l.vcpu() == report.vcpu() && l.exitReason() == report.exitReason() && l.rip() == report.rip();
    }

    private void supervise() {
        RunResult last;
        Long lastTripleFaultRip = null;
        try {
            while (true) {
                VmSession s = session;
                s.start();
                RunResult r = watch(s);
                boolean reboot = !config.noReboot() && stopRequest == null && switch (r.reason()) {
                    case RESET -> true;
                    case TRIPLE_FAULT -> {
                        // A PC resets on a triple fault; a guest that faults again at the same place
                        // right after would loop for ever, so that one ends the run.
                        long rip = r.report().map(rep -> rep.rip()).orElse(-1L);
                        boolean repeat = lastTripleFaultRip != null && lastTripleFaultRip == rip;
                        lastTripleFaultRip = rip;
                        yield !repeat;
                    }
                    default -> false;
                };
                if (r.reason() == RunResult.Reason.SUSPEND && stopRequest == null) {
                    emit(new MachineEvent.Suspend());
                    if (!suspendAndResume(s)) {
                        last = stopRequest != null ? stopRequest : r;
                        break;
                    }
                    emit(new MachineEvent.Wakeup());
                    continue;
                }
                if (!reboot) {
                    last = r;
                    break;
                }
                trace.marker("reset: " + r.message());
                if (r.reason() == RunResult.Reason.TRIPLE_FAULT) {
                    r.report().ifPresent(rep -> {
                        log.accept(rep.format().stripTrailing());
                        loggedTripleFault = rep;
                    });
                    log.accept("jkvm: resetting the machine after the triple fault (-no-reboot ends the run instead;"
                            + " the same fault again right after the reset ends it)");
                } else {
                    lastTripleFaultRip = null;
                }
                synchronized (sessionLock) {
                    if (stopRequest != null) {
                        last = stopRequest;
                        break;
                    }
                    s.close();
                    devices.reset();
                    synchronized (this) {
                        resets++;
                    }
                    session = newSession(true);
                }
                boolean host = hostReset && r.reason() == RunResult.Reason.RESET;
                hostReset = false;
                emit(new MachineEvent.Reset(!host, host ? "host-qmp-system-reset" : "guest-reset"));
            }
        } catch (RuntimeException | Error e) {
            last = RunResult.of(RunResult.Reason.ERROR, 1, "the machine failed: " + e);
        } catch (InterruptedException e) {
            last = RunResult.of(RunResult.Reason.CLOSED, 1, "interrupted");
        }
        if (gdbStub != null) {
            gdbStub.guestExited(last.exitStatus());
        }
        RunResult requested = stopRequest;
        RunResult end = requested != null && last.reason() == RunResult.Reason.CLOSED ? requested : last;
        List<VcpuReport> reports;
        try {
            // KVM's own counters only where someone asked for them: -stats, the monitor, a test
            reports = reports(config.stats() != MachineConfig.StatsFormat.NONE);
        } catch (RuntimeException e) {
            reports = List.of();
        }
        flushSerial();
        for (SerialConsole c : consoles) {
            c.droppedOutputNote().ifPresent(note -> log.accept("jkvm: " + note));
        }
        trace.end(end.message());
        finalResult = end.with(serial().transcript(), reports);
        endEvents(end);
        finished.countDown();
        endListeners.forEach(Runnable::run);
    }

    /** The events of a run's end, with QEMU's causes (a debug-exit ends QEMU at once, without one). */
    private void endEvents(RunResult end) {
        switch (end.reason()) {
            case POWER_OFF, HALTED -> emit(new MachineEvent.Shutdown(true, "guest-shutdown"));
            case RESET, TRIPLE_FAULT -> {
                if (end.reason() == RunResult.Reason.TRIPLE_FAULT && !config.noReboot()) {
                    emit(new MachineEvent.GuestPanicked(end.message())); // the triple fault repeated after a reset
                    emit(new MachineEvent.Shutdown(true, "guest-panic"));
                } else {
                    boolean host = hostReset && end.reason() == RunResult.Reason.RESET;
                    emit(new MachineEvent.Shutdown(!host, host ? "host-qmp-system-reset" : "guest-reset"));
                }
            }
            case INTERNAL_ERROR, FAIL_ENTRY, UNHANDLED_EXIT -> {
                emit(new MachineEvent.GuestPanicked(end.message()));
                emit(new MachineEvent.Shutdown(true, "guest-panic"));
            }
            case QUIT -> emit(new MachineEvent.Shutdown(false, "host-qmp-quit"));
            case SIGNAL, TIMEOUT -> emit(new MachineEvent.Shutdown(false, "host-signal"));
            case DEBUG_EXIT, SUSPEND, CLOSED, ERROR -> {
            }
        }
    }

    /**
     * ACPI S3: every vCPU has left the guest; memory stays as it is. Waits for a wake event, then
     * starts the machine again the way firmware resumes a PC: devices reset, a fresh VM over the
     * same memory, the BSP in real mode at the FACS firmware waking vector, the other vCPUs waiting
     * for INIT/SIPI. Returns false when the run was stopped instead.
     */
    private boolean suspendAndResume(VmSession s) throws InterruptedException {
        log.accept("jkvm: the guest suspended to RAM (S3); waiting for a wake event (RTC alarm, system_wakeup)");
        trace.marker("suspend to RAM (S3)");
        synchronized (sessionLock) {
            s.close();
        }
        synchronized (wakeLock) {
            wakeRequested = false;
            suspended = true;
            try {
                while (!wakeRequested && stopRequest == null) {
                    wakeLock.wait(100);
                }
            } finally {
                suspended = false;
            }
        }
        if (stopRequest != null) {
            return false;
        }
        synchronized (sessionLock) {
            devices.resetForResume();
            devices.pm().wake(); // WAK_STS, as the chipset sets it on resume
            VmSession next = new VmSession(kvm, memory, ports, mmio, cpuid, counters, config.vcpuAffinity(), config.irqchip(),
                    gdbStub);
            long vector = wakingVector();
            VcpuFd bsp = next.vcpus().get(0).fd();
            dev.jkvm.kvm.Sregs sr = bsp.sregs();
            bsp.setSregs(sr.withCs(sr.cs().realMode((int) (vector >>> 4))));
            bsp.setRegs(bsp.regs().withRip(vector & 0xf));
            attachTrace(next);
            session = next;
        }
        log.accept(String.format("jkvm: resuming from S3 at the waking vector 0x%x", wakingVector()));
        return true;
    }

    /** The FACS firmware waking vector the guest left (offset 12 of the FACS), 0 when unset. */
    private long wakingVector() {
        for (var t : tables.acpiTables()) {
            if (t.signature().equals("FACS")) {
                byte[] b = memory.read(t.address() + 12, 4);
                return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (long) (b[3] & 0xff) << 24;
            }
        }
        return 0;
    }

    /**
     * Waits for the session to end, meanwhile watching for a guest whose every vCPU halted with
     * interrupts disabled: nothing can wake such a guest, so its run ends as a halt (status 0), as
     * the bundled ROM guests expect.
     */
    private RunResult watch(VmSession s) throws InterruptedException {
        long period = HALT_WATCH_FIRST.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0 && deadlineResult != null) {
                stop(deadlineResult);
            }
            RunResult r = s.await(Duration.ofNanos(Math.max(1, Math.min(period, left))));
            if (r != null) {
                List<Vcpu> stuck = s.joinVcpus(VCPU_JOIN_TIMEOUT);
                if (!stuck.isEmpty()) {
                    // never wait for ever: the run ends; close() keeps what those threads may still touch
                    vcpusLeftBehind = true;
                    String what = stuck.stream().map(Vcpu::threadName).toList() + " did not stop within "
                            + VCPU_JOIN_TIMEOUT.toMillis() + " ms";
                    log.accept("jkvm: " + what + "; the run ends without them");
                    if (r.reason() == RunResult.Reason.RESET || r.reason() == RunResult.Reason.TRIPLE_FAULT
                            || r.reason() == RunResult.Reason.SUSPEND) {
                        return RunResult.of(RunResult.Reason.ERROR, 1, what); // no new session beside a thread of the old one
                    }
                }
                return r;
            }
            period = Math.min(period * 2, HALT_WATCH_PERIOD.toNanos());
            // Without an irqchip a HLT exits to jkvm and ends the run itself: nothing to look for.
            if (config.irqchip() && s.allHaltedForGood(VCPU_ANSWER_TIMEOUT)) {
                s.control().end(RunResult.of(RunResult.Reason.HALTED, 0, "every vCPU halted with interrupts disabled"));
            }
        }
    }

    /** Whether the guest has ended (and how, through {@link #result()}). */
    public boolean ended() {
        return finalResult != null;
    }

    /** How the run ended, or empty while it goes on. */
    public Optional<RunResult> result() {
        return Optional.ofNullable(finalResult);
    }

    /** Runs the guest to its end, or until the configured timeout. */
    public RunResult run() {
        return run(config.timeout());
    }

    /**
     * Runs the guest to its end, or until {@code timeout} (null: no limit); returns how it ended.
     * When nothing started the machine yet, this thread watches the run itself (one thread fewer to
     * start and join per run); otherwise it waits for the watcher {@link #start()} started.
     */
    public RunResult run(Duration timeout) {
        boolean here;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("machine is closed");
            }
            here = supervisor == null;
            if (here) {
                supervisor = Thread.currentThread();
            }
        }
        if (here) {
            RunResult limit = timeout == null ? null : RunResult.of(RunResult.Reason.TIMEOUT, RunResult.TIMEOUT_STATUS,
                    "the guest ran for longer than " + timeout.toMillis() / 1000.0 + " s");
            deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
            deadlineResult = limit;
            supervise();
            return finalResult;
        }
        try {
            if (timeout == null) {
                finished.await();
            } else if (!finished.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                stop(RunResult.of(RunResult.Reason.TIMEOUT, RunResult.TIMEOUT_STATUS,
                        "the guest ran for longer than " + timeout.toMillis() / 1000.0 + " s"));
                finished.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(RunResult.of(RunResult.Reason.CLOSED, 1, "interrupted"));
        }
        return finalResult;
    }

    /** Ends the run now (the monitor's {@code quit}, a signal, a timeout): every vCPU leaves the guest. */
    public void stop(RunResult why) {
        synchronized (sessionLock) {
            if (stopRequest == null) {
                stopRequest = why;
            }
            VmSession s = session;
            if (s != null) {
                s.control().end(why);
            }
        }
        if (gdbStub != null) {
            gdbStub.guestExited(why.exitStatus()); // releases vCPUs the debugger holds
        }
        synchronized (wakeLock) {
            wakeLock.notifyAll(); // a suspended machine ends too
        }
    }

    /** Parks every vCPU outside the guest (the monitor's {@code stop}); true when all are parked. */
    public boolean pause() {
        trace.marker("stop (vCPUs paused)");
        boolean was = paused();
        try {
            return session.control().pause(VCPU_ANSWER_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (!was) {
                emit(new MachineEvent.Stop(false));
            }
        }
    }

    /** Lets the vCPUs run again (the monitor's {@code cont}). */
    public void resume() {
        trace.marker("cont");
        boolean was = paused();
        session.control().resume();
        launched = true;
        if (was) {
            emit(new MachineEvent.Resume());
        }
    }

    /** Whether the vCPUs are parked by {@link #pause()}. */
    public boolean paused() {
        return session.control().pauseRequested();
    }

    /** A last bounded wait for vCPU threads the end of the run left behind. */
    private boolean vcpusEndedAfterAll() {
        try {
            return session.joinVcpus(VCPU_JOIN_TIMEOUT).isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops the vCPUs (if running), joins every thread and releases every fd and mapping. Idempotent. */
    @Override
    public void close() {
        Thread watcher;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            watcher = supervisor;
        }
        stop(RunResult.of(RunResult.Reason.CLOSED, 1, "the machine was closed"));
        boolean interrupted = false;
        // Wait for whoever watches the run (our thread from start(), or a caller inside run()) to
        // see it end; never for ourselves.
        while (watcher != null && watcher != Thread.currentThread() && finished.getCount() > 0) {
            try {
                finished.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (watcher != null && watcher != Thread.currentThread() && watcher.getName().equals(SUPERVISOR_NAME)) {
            while (watcher.isAlive()) {
                try {
                    watcher.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (gdbServer != null) {
            gdbServer.close(); // before the vCPU descriptors and memory it reaches go away
        }
        consoles.forEach(SerialConsole::close); // senders waiting for the guest return
        for (AutoCloseable b : serialBackends) {
            try {
                b.close();
            } catch (Exception e) {
                // a file or socket that will not close is no reason to keep the rest open
            }
        }
        boolean released = false;
        synchronized (sessionLock) {
            if (!vcpusLeftBehind || vcpusEndedAfterAll()) {
                session.close();
                released = true;
            }
        }
        trace.close();
        devices.close();
        if (released) {
            snapshots.close();
            memory.close(); // a vCPU still running could touch it: unmapping it under its feet would crash the JVM
        } else {
            log.accept("jkvm: a vCPU thread did not end: its KVM descriptors and the guest memory stay until jkvm exits");
        }
        if (kernel != null) {
            kernel.close();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
