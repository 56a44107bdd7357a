package dev.jkvm.vmm;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PcTestdev;
import dev.jkvm.devices.PciTestdev;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.SystemControl;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.vmm.board.PcDevices;
import dev.jkvm.vmm.board.UnimplementedLog;
import dev.jkvm.vmm.boot.KernelImage;
import dev.jkvm.vmm.boot.KernelVariables;
import dev.jkvm.vmm.boot.RomImage;
import dev.jkvm.vmm.chardev.ChardevEndpoint;
import dev.jkvm.vmm.cpu.CpuFeatureTable;
import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.cpu.CpuOption;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.cpu.CpuidReadback;
import dev.jkvm.vmm.cpu.HostCpuid;
import dev.jkvm.vmm.firmware.BiosAreaRsdp;
import dev.jkvm.vmm.firmware.FirmwareTables;
import dev.jkvm.vmm.gdb.GdbServer;
import dev.jkvm.vmm.gdb.GdbStub;
import dev.jkvm.vmm.gdb.MachineDebugTarget;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestView;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.serial.SerialConsole;
import dev.jkvm.vmm.serial.SerialSocket;
import dev.jkvm.vmm.snapshot.MachineSnapshots;
import dev.jkvm.vmm.stats.VcpuCounters;
import dev.jkvm.vmm.trace.ExitTrace;
import dev.jkvm.vmm.vcpu.PowerCycle;
import dev.jkvm.vmm.vcpu.SessionFactory;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VmSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Builds a {@link Machine}'s parts, as Firecracker's builder does, apart from running them: memory,
 * serial consoles, devices, firmware tables, the first power-on, the GDB server, the exit trace.
 * Every resource goes on one stack as it opens; when a step fails, what was opened is closed in
 * reverse and nothing stays behind.
 */
final class MachineBuilder {

    /** What the built machine holds. */
    record Parts(GuestMemory memory, PortBus ports, MmioBus mmio, List<SerialConsole> consoles,
                 List<AutoCloseable> serialBackends, PcDevices devices, IntFunction<IrqLine> irqs, CpuidPlan cpuid,
                 List<String> cpuidWarnings, CpuidReadback cpuidReadback, FirmwareTables tables, E820 e820,
                 KernelImage kernel, GuestView guest, KernelVariables variables, GdbStub gdbStub, AtomicReference<GdbServer> gdbServer,
                 ExitTrace trace, PowerCycle power, MachineSnapshots snapshots) {

        /** The TCP port the GDB stub listens on, when it listens on one. */
        OptionalInt gdbPort() {
            GdbServer s = gdbServer.get();
            return s == null || s.port() <= 0 ? OptionalInt.empty() : OptionalInt.of(s.port());
        }

        /**
         * Releases everything, each user before what it uses: the GDB server before the vCPU
         * descriptors and memory it reaches, the consoles (senders waiting for the guest return)
         * and their files and sockets, the power-on, trace and devices, then jkvm's access to the
         * memory. The kernel's part, the VM's and vCPUs' descriptors closed and the memory unmapped,
         * goes to {@link VmTeardown} (failures told to {@code errors}), unless a vCPU thread the run
         * left behind still runs: its descriptors and the memory then stay.
         */
        void release(Consumer<String> log, Consumer<String> errors) {
            if (gdbServer.get() != null) {
                gdbServer.get().close();
            }
            consoles.forEach(SerialConsole::close);
            for (AutoCloseable b : serialBackends) {
                try {
                    b.close();
                } catch (Exception e) {
                    // a file or socket that will not close is no reason to keep the rest open
                }
            }
            Runnable vm = power.close();
            trace.close();
            devices.close();
            if (vm != null) {
                snapshots.close();
                // a vCPU still running could touch the memory: unmapping it under its feet would crash the JVM
                long bytes = memory.size();
                VmTeardown.submit(List.of(vm, memory.detach()), errors, bytes);
            } else {
                log.accept("jkvm: a vCPU thread did not end: its KVM descriptors and the guest memory stay until jkvm exits");
            }
            if (kernel != null) {
                kernel.close();
            }
        }
    }

    private final MachineConfig config;
    private final Machine machine;
    /** Told the name of every finished step (start-up phases; a test fails one there). */
    private final Consumer<String> phases;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final PortBus ports = new PortBus();
    private final MmioBus mmio = new MmioBus();
    private final List<AutoCloseable> serialBackends = new ArrayList<>();
    /** Set once the first power-on exists; the devices' callbacks read it only when the guest runs. */
    private PowerCycle power;
    private PcDevices devices;
    private PcTestdev pcTestdev;
    private PciTestdev pciTestdev;

    MachineBuilder(MachineConfig config, Machine machine, Consumer<String> phases) {
        this.config = config;
        this.machine = machine;
        this.phases = phases;
    }

    /** @param boot write the firmware tables and load the kernel (not when a snapshot's memory replaces them) */
    Parts build(boolean boot) {
        try {
            return assemble(boot);
        } catch (KvmException e) {
            closeOwned();
            throw new JkvmException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeOwned();
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        if (resource != null) {
            owned.push(resource);
        }
        return resource;
    }

    private void closeOwned() {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception ignored) {
                // already failing: the first error is the one to report
            }
        }
    }

    private Parts assemble(boolean boot) {
        RomImage rom = config.firmware().load(); // a bad image is reported even without KVM
        phases.accept("  firmware read");
        MemoryMap map = MemoryMap.pc(config.memoryBytes(), rom.bytes().length);
        List<SerialConsole> consoles = new ArrayList<>();
        List<OutputStream> sinks = new ArrayList<>();
        for (SerialBackend b : config.serials()) {
            // none, unix, chardev: no stream of their own (a socket forwards to its client once listening)
            OutputStream sink = b instanceof SerialBackend.None || b instanceof SerialBackend.Unix
                    || b instanceof SerialBackend.Chardev ? null : b.openSink();
            if (b instanceof SerialBackend.File) {
                serialBackends.add(own(sink));
            }
            SerialConsole console = new SerialConsole("COM" + (consoles.size() + 1), sink);
            own(console::close);
            consoles.add(console);
            sinks.add(console.uartSink());
        }
        devices = own(new PcDevices(ports, mmio, this::irqLine, systemControl(), sinks, map, config.topology(),
                status -> machine.stop(RunResult.of(RunResult.Reason.DEBUG_EXIT, status,
                        "the guest wrote " + (status >> 1) + " to the debug-exit port")), sleep()));
        phases.accept("  devices and serial consoles");
        for (int i = 0; i < consoles.size(); i++) {
            consoles.get(i).attach(devices.com(i));
            connectSerial(config.serials().get(i), consoles.get(i));
        }
        if (config.logUnimplemented()) {
            UnimplementedLog unimp = new UnimplementedLog(machine::log);
            ports.setUnhandledAccessListener(unimp::port);
            mmio.setUnhandledAccessListener(unimp::mmio);
        }
        BoardShape shape = BoardShape.of(config, map); // an equal shape laid out before: the same tables
        FirmwareTables tables = shape.tables();
        E820 e820 = shape.e820();
        devices.fwCfg().addFile("etc/e820", shape.e820File());
        phases.accept("  firmware tables and e820 laid out");
        // Only now the first system calls: until here start-up ran beside the warm-up thread that
        // links FFM (mmap goes through it) and opens /dev/kvm.
        GuestMemory memory = own(new GuestMemory(map, rom.bytes()));
        if (config.memPrealloc()) {
            memory.prealloc();
        }
        addPeripherals(config.peripherals(), memory);
        phases.accept("  guest memory mapped");
        CpuSetup cached = CpuSetup.cached(config); // an equal configuration resolved before: the same answer
        // the CPU tables: read meanwhile by the command line's warm-up thread
        CpuModels models = cached != null ? null : config.cpuModels();
        CpuOption option = cached != null ? cached.option() : CpuOption.parse(config.cpu(), models);
        Kvm kvm = SharedKvm.get();
        phases.accept("  CPU model parsed, /dev/kvm opened, supported CPUID");
        CpuSetup cpus = cached != null ? cached : resolveCpus(kvm, models, option);
        CpuidPlan cpuid = cpus.plan();
        phases.accept("  CPUID plan");
        // vCPU registers asked of their threads, in whatever power-on is current then
        GuestView guest = new GuestView(memory, cpu -> power.session().vcpus().get(cpu).call(VcpuFd::sregs, Machine.VCPU_ANSWER_TIMEOUT));
        GdbStub gdbStub = config.gdb().isPresent()
                ? new GdbStub(new MachineDebugTarget(machine, guest).probeInBackground(), config.startPaused(), line -> machine.log("jkvm: " + line))
                : null;
        KernelImage kernel = own(config.kernel().map(k -> KernelImage.resolve(k.image())).orElse(null));
        KernelVariables variables = new KernelVariables(Optional.ofNullable(kernel).map(KernelImage::path), guest);
        // A kernel boot never runs the ROM's code: its free bytes in the F segment take a copy of the RSDP.
        OptionalLong biosRsdp = kernel != null && tables.rsdpBytes().isPresent()
                ? BiosAreaRsdp.findRoom(memory, tables.rsdpBytes().get().length)
                : OptionalLong.empty();
        List<VcpuCounters> counters = new ArrayList<>();
        List<String> tracks = new ArrayList<>();
        for (int i = 0; i < config.topology().cpus(); i++) {
            counters.add(new VcpuCounters());
            tracks.add("CPU " + i + "/KVM");
        }
        ExitTrace trace = new ExitTrace(config.exitTrace(), "jkvm: " + guestName(config), tracks, ports, mmio, machine::log);
        own(trace::close);
        GuestBoot coldBoot = new GuestBoot(memory, tables, e820, kernel, config.kernel().orElse(null), biosRsdp);
        SessionFactory sessions = new SessionFactory(kvm, memory, ports, mmio, cpuid, counters, config.vcpuAffinity(),
                config.irqchip(), gdbStub, coldBoot, s -> attachTrace(s, trace));
        VmSession first = own(boot ? sessions.coldBoot() : sessions.blank());
        phases.accept("  VM, vCPUs, tables written, kernel loaded");
        // KVM adjusts a table the same way every time: the first machine of a setup asks it (KVM_GET_CPUID2)
        CpuidReadback readback = cpus.readback(() -> CpuidReadback.compare(cpuid.entriesFor(0), first.vcpus().getFirst().fd().cpuid()));
        if (config.startPaused() && gdbStub == null) {
            first.control().holdAtStart();
        }
        power = new PowerCycle(first, sessions, board(devices, coldBoot), config.noReboot(), config.irqchip(), trace,
                machine::log, machine.events);
        MachineSnapshots snapshots = new MachineSnapshots(machine, kvm, power::session, pcTestdev, pciTestdev, machine::log);
        return new Parts(memory, ports, mmio, List.copyOf(consoles), List.copyOf(serialBackends), devices, this::irqLine,
                cpuid, cpus.warnings(() -> warnings(cpuid, option, readback)), readback, tables, e820, kernel, guest, variables, gdbStub, new AtomicReference<>(), trace, power, snapshots);
    }

    /**
     * The last steps, once the machine holds its parts: the GDB server listens (a client may come at once and finds
     * everything there), the exit trace's file is created. When one fails, everything built is closed in reverse.
     */
    void finish(Parts parts) {
        try {
            if (parts.gdbStub() != null) {
                parts.gdbServer().set(own(GdbServer.start(config.gdb().orElseThrow(), parts.gdbStub(),
                        line -> machine.log("jkvm: " + line))));
            }
            startTrace(parts.trace());
        } catch (RuntimeException | Error e) {
            closeOwned();
            throw e;
        }
    }

    /** ISA IRQ (or GSI) {@code irq} of the current power-on's interrupt controller (the board wakes S3 on the RTC's). */
    private IrqLine irqLine(int irq) {
        return level -> {
            PowerCycle p = power; // null while the machine is being built: nothing runs yet
            if (p != null) {
                p.session().irqLine(irq, level);
            }
        };
    }

    /** S3 as the board sees it: whether the guest sleeps, and the wake event its RTC alarm raises. */
    private PcDevices.Sleep sleep() {
        return new PcDevices.Sleep() {
            @Override
            public boolean suspended() {
                PowerCycle p = power;
                return p != null && p.suspended();
            }

            @Override
            public void wake() {
                power.wakeup();
            }
        };
    }

    /** The CPUs of {@code option} on this host's KVM, kept for the next equal configuration (see {@link CpuSetup}). */
    private CpuSetup resolveCpus(Kvm kvm, CpuModels models, CpuOption option) {
        // Built-in models show the host's vendor, as QEMU's do under KVM (vendor= overrides it).
        HostCpuid host = HostCpuid.of(kvm.supportedCpuid(), config.irqchip());
        if (models.require(option.model()).kind().fromHost() && host.brand().isEmpty()) {
            host = host.withBrand(HostCpus.modelName()); // host/max: the host's brand, as QEMU
        }
        return CpuSetup.remember(config, option, CpuidPlan.create(option, models, config.topology(), host, true));
    }

    /** The CPUID warnings (see {@link Machine#warnings()}), found once per CPU setup. */
    private static List<String> warnings(CpuidPlan cpuid, CpuOption option, CpuidReadback readback) {
        List<String> all = new ArrayList<>(cpuid.warnings());
        boolean defaultModel = option.model().equals(CpuOption.DEFAULT_MODEL);
        readback.warning(option, cpuid.fromHost(), defaultModel, CpuFeatureTable.standard()).ifPresent(all::add);
        return List.copyOf(all);
    }

    /** What a power cycle does to this board: a reset, the resume from S3, the waking vector. */
    private static PowerCycle.Board board(PcDevices devices, GuestBoot boot) {
        return new PowerCycle.Board() {
            @Override
            public void reset() {
                devices.reset();
            }

            @Override
            public void resumeFromS3() {
                devices.resetForResume();
                devices.pm().wake(); // WAK_STS, as the chipset sets it on resume
            }

            @Override
            public long wakingVector() {
                return boot.wakingVector();
            }

            @Override
            public void requestReset() {
                devices.requestReset();
            }

            @Override
            public void pressPowerButton() {
                devices.pm().pressPowerButton();
            }
        };
    }

    /** The chipset's requests (reset control, ACPI sleep) as the power cycle takes them. */
    private SystemControl systemControl() {
        return new SystemControl() {
            @Override
            public void reset() {
                power.session().control().end(RunResult.of(RunResult.Reason.RESET, 0, "the guest reset the machine"));
            }

            @Override
            public void powerOff() {
                machine.stop(RunResult.of(RunResult.Reason.POWER_OFF, 0, "the guest powered off"));
            }

            @Override
            public void sleep(int slpTyp) {
                if (slpTyp == 0) { // \_S5 in jkvm's DSDT
                    powerOff();
                } else if (slpTyp == 1 && config.s3()) { // \_S3
                    power.suspending();
                    if (devices.rtcWakePending()) {
                        power.wakeup();
                    }
                    power.session().control().end(RunResult.of(RunResult.Reason.SUSPEND, 0, "the guest suspended to RAM"));
                } else {
                    machine.log("jkvm: the guest asked for sleep state type " + slpTyp + ", which this machine does not offer");
                }
            }
        };
    }

    /** A chardev or unix socket behind {@code console}, when its {@code -serial} asks for one. */
    private void connectSerial(SerialBackend backend, SerialConsole console) {
        if (backend instanceof SerialBackend.Chardev c) {
            ChardevEndpoint endpoint = own(ChardevEndpoint.open(c.spec(), "-serial chardev:" + c.spec().id(),
                    (in, out) -> {
                        byte[] buf = new byte[512];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            console.send(buf, 0, n); // waits while the guest has not read: backpressure
                        }
                    }, System.err::println));
            serialBackends.add(endpoint);
            console.forwardTo(endpoint.sink());
        }
        if (backend instanceof SerialBackend.Unix u) {
            // QEMU's line from "QEMU waiting" on, word for word: scripts wait for it before they connect
            try {
                serialBackends.add(own(SerialSocket.listen(u.path(), console, u.waitForClient(),
                        () -> System.err.println("jkvm: info: QEMU waiting for connection on: disconnected:unix:" + u.path() + ",server=on"))));
            } catch (IOException e) {
                throw new JkvmException("-serial unix:" + u.path() + ": cannot listen: " + e.getMessage(), e);
            }
        }
    }

    /** {@code -device pc-testdev}, {@code pci-testdev}, {@code isa-debugcon}: on the buses where QEMU puts them. */
    private void addPeripherals(Peripherals p, GuestMemory memory) {
        for (Peripherals.Debugcon d : p.debugcons()) {
            ChardevEndpoint endpoint = own(ChardevEndpoint.open(d.backend(), "isa-debugcon", null, System.err::println));
            serialBackends.add(endpoint);
            try {
                devices.addDebugcon(d.iobase(), d.readback(), endpoint.sink());
            } catch (IllegalArgumentException e) {
                throw new JkvmException(String.format("-device isa-debugcon,iobase=0x%x: %s", d.iobase(), e.getMessage()));
            }
        }
        try {
            if (p.pcTestdev()) {
                pcTestdev = devices.addPcTestdev(memory::flushPage);
            }
            if (p.pciTestdev()) {
                pciTestdev = devices.addPciTestdev();
            }
        } catch (IllegalArgumentException e) {
            throw new JkvmException("-device: " + e.getMessage());
        }
    }

    /** Points the trace at the vCPUs of power-on {@code s} (each records into its ring while tracing is on). */
    private static void attachTrace(VmSession s, ExitTrace trace) {
        List<Vcpu> vcpus = s.vcpus();
        trace.attach(rings -> {
            for (Vcpu v : vcpus) {
                if (rings != null) {
                    try {
                        // KVM_GET_STATS_FD waits for the vCPU to leave KVM_RUN: ask its own thread.
                        v.call(fd -> s.stats(v.index()), Machine.VCPU_ANSWER_TIMEOUT);
                    } catch (IllegalStateException e) {
                        // not answering: the trace then lacks this vCPU's KVM counters
                    }
                }
                v.traceInto(rings == null ? null : rings[v.index()]);
            }
        }, s::readOpenStats);
    }

    /** {@code -exit-trace FILE}: the file is created now, so a path that cannot be written is said before the guest runs. */
    private void startTrace(ExitTrace trace) {
        try {
            trace.start();
        } catch (IOException e) {
            String why = switch (e) {
                case NoSuchFileException n -> "no such directory";
                case AccessDeniedException a -> "permission denied";
                case FileSystemException f -> f.getReason() != null ? f.getReason() : f.getMessage();
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
            Path p = Path.of(config.kernel().get().image()).getFileName();
            return p == null ? config.kernel().get().image() : p.toString();
        }
        if (config.firmware() instanceof BiosRom.File f) { // not a pattern switch: see SerialBackend.openSink
            String n = f.path().getFileName() == null ? f.path().toString() : f.path().getFileName().toString();
            return n.endsWith(".rom") ? n.substring(0, n.length() - 4) : n;
        }
        return ((BiosRom.Bundled) config.firmware()).name();
    }
}
