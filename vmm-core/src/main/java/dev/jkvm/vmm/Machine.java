package dev.jkvm.vmm;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.KvmStats;
import dev.jkvm.kvm.Regs;
import dev.jkvm.vmm.board.PcDevices;
import dev.jkvm.vmm.boot.KernelSymbols;
import dev.jkvm.vmm.boot.KernelVariables;
import dev.jkvm.vmm.cpu.CpuFeatureTable;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.firmware.FirmwareTables;
import dev.jkvm.vmm.host.StartupPhases;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestMemoryException;
import dev.jkvm.vmm.memory.GuestView;
import dev.jkvm.vmm.serial.SerialConsole;
import dev.jkvm.vmm.snapshot.MachineSnapshots;
import dev.jkvm.vmm.snapshot.RestoreStats;
import dev.jkvm.vmm.snapshot.Snapshot;
import dev.jkvm.vmm.stats.VcpuReport;
import dev.jkvm.vmm.trace.ExitTrace;
import dev.jkvm.vmm.vcpu.ExitReport;
import dev.jkvm.vmm.vcpu.PowerCycle;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VmSession;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * One virtual machine, owning every resource it creates (guest memory, devices, the KVM VM and its vCPU threads) until
 * {@link #close()} releases them all, whatever the guest is doing. The CLI is a thin layer over this class.
 *
 * <pre>{@code
 * try (Machine m = Machine.create(MachineConfig.builder().serial(SerialBackend.none()).build())) {
 *     RunResult r = m.run();
 *     System.out.println(m.serial().transcript());
 * }
 * }</pre>
 *
 * <p>A facade: {@link MachineBuilder} opens the parts (closing them in reverse when a step fails), {@link PowerCycle}
 * runs power-on after power-on ({@link VmSession}s, ended by a reset, a triple fault or S3), {@link MachineRun} knows who
 * watches the run and how it ended, {@link MachineSnapshots} saves and restores. Machines in one JVM share only /dev/kvm.
 */
public final class Machine implements AutoCloseable {

    /** How long a vCPU may take to answer a request (registers, state) from another thread. */
    public static final Duration VCPU_ANSWER_TIMEOUT = Duration.ofSeconds(2);

    private final MachineConfig config;
    /** Everything the builder opened; {@link #close()} releases it. */
    private final MachineBuilder.Parts parts;
    private final PowerCycle power;
    private final MachineRun run;
    private static final Consumer<String> NOWHERE = line -> { };
    private volatile Consumer<String> log = NOWHERE;
    /** Told of pauses, resets, the end (the builder hands it to the power cycle). */
    final MachineEvents events = new MachineEvents();

    private Machine(MachineConfig config, boolean boot, Consumer<String> phases) {
        this.config = config;
        MachineBuilder builder = new MachineBuilder(config, this, phases);
        this.parts = builder.build(boot);
        this.power = parts.power();
        this.run = new MachineRun(this, parts);
        builder.finish(parts);
    }

    /**
     * Builds a machine from {@code config}: memory, devices, the KVM VM and its vCPUs, the firmware tables; nothing runs yet.
     * @throws JkvmException for anything the user can fix (no KVM, a bad image, a CPU model KVM cannot provide with {@code enforce})
     */
    public static Machine create(MachineConfig config) {
        return new Machine(config, true, StartupPhases::mark);
    }

    /** As {@link #create(MachineConfig)}, telling {@code phases} each finished step of the build (a test fails one). */
    static Machine create(MachineConfig config, Consumer<String> phases) {
        return new Machine(config, true, phases);
    }

    /**
     * Builds a machine from {@code config} with {@code snapshot} in it: when it starts, the guest goes on from the snapshot.
     * @throws JkvmException when the snapshot is of another machine (one line saying how it differs)
     */
    public static Machine create(MachineConfig config, Snapshot snapshot) {
        Machine m = new Machine(config, false, StartupPhases::mark); // the snapshot's memory holds the tables and whatever it booted
        try {
            m.restore(snapshot);
            return m;
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    /** The exit trace ({@code -exit-trace}, the monitor's {@code trace-file}). */
    public ExitTrace exitTrace() {
        return parts.trace();
    }

    /** Saves the machine (vCPUs paused for the copy); a {@link #restore} of it then copies back only the pages written since. */
    public Snapshot snapshot() {
        return parts.snapshots().snapshot();
    }

    /**
     * Puts this live machine back to {@code snapshot} in place: memory (only the pages written since, when it last equalled
     * the snapshot), every vCPU, the interrupt controllers, PIT, kvmclock and devices; a paused machine stays paused.
     * @throws JkvmException when the snapshot is of another machine (nothing is changed then)
     * @throws IllegalStateException when the run has ended (create a machine from the snapshot instead)
     */
    public void restore(Snapshot snapshot) {
        parts.snapshots().restore(snapshot);
    }

    /** How the last restore went, or null before the first. */
    public RestoreStats lastRestore() {
        return parts.snapshots().lastRestore();
    }

    /** The MSRs KVM took on save but refused on restore (this host's KVM cannot restore them), sorted. */
    public List<Integer> refusedMsrs() {
        return parts.snapshots().refusedMsrs();
    }

    /** Whether the guest is suspended to RAM (ACPI S3), waiting for a wake event. */
    public boolean suspended() {
        return power.suspended();
    }

    /** A wake event ({@code system_wakeup}, the RTC alarm, the power button) for a suspended guest; ignored otherwise. */
    public void wakeup() {
        power.wakeup();
    }

    /** Adds a listener for what happens (pauses, resets, the end), told on the thread that made it happen: it must return at once. */
    public void onEvent(Consumer<MachineEvent> listener) {
        events.add(listener);
    }

    /** Runs {@code action} once the run has ended (on the thread that saw it end; it must return at once). */
    public void whenEnded(Runnable action) {
        run.whenEnded(action);
    }

    /** The host resets the machine (QMP's and the monitor's {@code system_reset}), as the reset control register would. */
    public void systemReset() {
        power.hostReset();
    }

    /** The power button (QMP's {@code system_powerdown}): an ACPI guest shuts itself down; a suspended one wakes. */
    public void powerdown() {
        power.powerdown();
    }

    /** Whether the vCPUs ran freely at some point: false while {@code -S} still holds them. */
    public boolean launched() {
        return power.resumed() || !(config.startPaused() && parts.gdbStub() == null);
    }

    /** Where the machine reports what happens along the way (resets, unimplemented accesses); default nowhere. */
    public void onLog(Consumer<String> sink) {
        this.log = run.afterSerialOutput(sink);
    }

    void log(String line) {
        log.accept(line);
    }

    /**
     * The CPUID warnings: features this host's KVM cannot provide (dropped, in QEMU's words), and one line when KVM replaced
     * the feature bits jkvm set against what {@code -cpu} asked for (nothing for host/max, or the default model as it is).
     */
    public List<String> warnings() {
        return parts.cpuidWarnings();
    }

    /** {@code -d cpuid}: each feature word KVM holds differently from what jkvm set, with the bits by name. */
    public List<String> cpuidDetails() {
        return parts.cpuidReadback().details(CpuFeatureTable.standard());
    }

    /** Whether this host's KVM kept the CPUID feature bits jkvm set (stock KVM does; kvm_pvm does not). */
    public boolean cpuidFeaturesHonoured() {
        return parts.cpuidReadback().honoured();
    }

    /** The configuration this machine was built from. */
    public MachineConfig config() {
        return config;
    }

    /** The guest's memory, for inspection. */
    public GuestMemory memory() {
        return parts.memory();
    }

    /** COM1, host side: the transcript, line waits, input. */
    public SerialConsole serial() {
        return parts.consoles().getFirst();
    }

    /** COM{@code n + 1}, host side. */
    public SerialConsole serial(int n) {
        return parts.consoles().get(n);
    }

    /** The guest's e820 map, as every table and loader gives it. */
    public E820 e820() {
        return parts.e820();
    }

    /** The firmware tables (MP, ACPI) and where they are. */
    public FirmwareTables tables() {
        return parts.tables();
    }

    /** The legacy devices. */
    public PcDevices devices() {
        return parts.devices();
    }

    /** The port-I/O bus, where a test may add its own device before {@link #start()}. */
    public PortBus ports() {
        return parts.ports();
    }

    /** The MMIO bus. */
    public MmioBus mmio() {
        return parts.mmio();
    }

    /** The TCP port the GDB stub listens on, when it listens on one ({@code -gdb tcp::0} picks a free port). */
    public OptionalInt gdbPort() {
        return parts.gdbPort();
    }

    /** The CPUs the guest was given. */
    public CpuidPlan cpuid() {
        return parts.cpuid();
    }

    /** ISA interrupt {@code irq} for a device a test adds: {@code ports().register(0x300, 4, new MyDevice(machine.irq(5)))}. */
    public IrqLine irq(int irq) {
        return parts.irqs().apply(irq);
    }

    /** Guest memory as the embedding API, the monitor and QMP see it (vCPU registers asked of their threads). */
    public GuestView guest() {
        return parts.guest();
    }

    /** The {@code -kernel}'s variables by name (its symbol table read on first use). */
    public KernelVariables variables() {
        return parts.variables();
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
        return power.session().vcpus();
    }

    /** How many times the guest reset the machine so far. */
    public int resets() {
        return power.resets();
    }

    /** KVM's binary statistics of vCPU {@code vcpu} in this power-on (opened on first use), or null; synchronize on it while reading. */
    public KvmStats kvmStats(int vcpu) {
        return power.session().stats(vcpu);
    }

    /** KVM's binary statistics of the VM itself, or null when KVM has none; synchronize on it while reading. */
    public KvmStats kvmVmStats() {
        return power.session().vmStats();
    }

    /** Each vCPU's three modes now (or as they ended): exits in user and kernel mode, guest time. */
    public List<VcpuReport> reports() {
        return power.session().reports(true);
    }

    /** Starts the vCPU threads (once) and the thread that watches the run and reboots on reset. */
    public void start() {
        run.start();
    }

    /** Whether {@code report} is the fault (vCPU, exit, RIP) logged when the machine reset after it: the CLI then says so in a line. */
    public boolean reportLoggedAtReset(ExitReport report) {
        return power.reportLoggedAtReset(report);
    }

    /** Whether the guest has ended (and how, through {@link #result()}). */
    public boolean ended() {
        return run.result().isPresent();
    }

    /** How the run ended, or empty while it goes on. */
    public Optional<RunResult> result() {
        return run.result();
    }

    /** Runs the guest to its end, or until the configured timeout. */
    public RunResult run() {
        return run(config.timeout());
    }

    /**
     * Runs the guest to its end, or until {@code timeout} (null: no limit); returns how it ended. When nothing started the
     * machine yet this thread watches the run itself (one thread fewer per run); else it waits for the one {@link #start()} started.
     */
    public RunResult run(Duration timeout) {
        return run.run(timeout);
    }

    /** Ends the run now (the monitor's {@code quit}, a signal, a timeout): every vCPU leaves the guest. */
    public void stop(RunResult why) {
        power.stop(why); // a suspended machine ends too
        if (parts.gdbStub() != null) {
            parts.gdbStub().guestExited(why.exitStatus()); // releases vCPUs the debugger holds
        }
    }

    /** Parks every vCPU outside the guest (the monitor's {@code stop}); true when all are parked. */
    public boolean pause() {
        return power.pause(VCPU_ANSWER_TIMEOUT);
    }

    /** Lets the vCPUs run again (the monitor's {@code cont}). */
    public void resume() {
        power.resume();
    }

    /** Whether the vCPUs are parked by {@link #pause()}. */
    public boolean paused() {
        return power.paused();
    }

    /**
     * Stops the vCPUs (if running), joins every thread, closes the devices, consoles, GDB server and their sessions, and
     * cuts the API off the guest memory; then hands the VM's and vCPUs' descriptors and the memory's mappings to one
     * thread of the process that gives them back to the kernel (KVM's destruction of the VM then runs beside the next
     * {@link #create}), at most two machines and 512 MiB of their memory at a time: a close that finds no room releases
     * its own before it returns. {@link #awaitReleased} waits for them. A failure there goes to {@link #onLog}'s sink, else to stderr.
     * Idempotent.
     */
    @Override
    public void close() {
        Consumer<String> sink = log;
        run.close(() -> parts.release(sink, sink == NOWHERE ? System.err::println : sink));
    }

    /**
     * Waits up to {@code timeout} until every closed machine of this process has given its descriptors and memory back
     * to the kernel; returns whether all have. For code that counts descriptors or memory right after a close.
     */
    public static boolean awaitReleased(Duration timeout) {
        return VmTeardown.awaitReleased(timeout);
    }
}
