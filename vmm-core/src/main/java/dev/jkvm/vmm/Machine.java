package dev.jkvm.vmm;

import dev.jkvm.devices.DebugExitPort;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.Uart16550;
import dev.jkvm.kvm.CpuidEntry;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.KvmStats;
import dev.jkvm.vmm.stats.VcpuReport;
import java.util.Map;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.boot.RomImage;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.serial.SerialConsole;
import dev.jkvm.vmm.vcpu.RunControl;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * One virtual machine: it owns every resource it creates (the VM descriptor, guest memory,
 * devices, vCPU threads) and {@link #close()} releases them all, in reverse order, whatever the
 * guest is doing. The CLI is a thin layer over this class.
 *
 * <pre>{@code
 * try (Machine m = Machine.create(MachineConfig.builder().serial(SerialBackend.none()).build())) {
 *     RunResult r = m.run();
 *     System.out.println(m.serial().transcript());
 * }
 * }</pre>
 *
 * <p>Many machines may live in one JVM at once; they share only the {@code /dev/kvm} handle.
 */
public final class Machine implements AutoCloseable {

    /** QEMU's choice for the three pages KVM needs for real mode on Intel hosts, just below the ROM window. */
    static final long TSS_ADDRESS = 0xfeffd000L;
    static final long IDENTITY_MAP_ADDRESS = 0xfeffc000L;
    /** COM1 and its ISA interrupt. */
    static final int COM1_BASE = 0x3f8;
    static final int COM1_IRQ = 4;
    /** QEMU's isa-debug-exit default iobase. */
    static final int DEBUG_EXIT_PORT = 0xf4;
    /** How often the machine looks for vCPUs halted for good while it waits for the end. */
    private static final Duration HALT_WATCH_PERIOD = Duration.ofMillis(100);
    private static final Duration HALT_WATCH_FIRST = Duration.ofMillis(2);
    /** How long a vCPU may take to answer a request (registers, state) from another thread. */
    static final Duration VCPU_ANSWER_TIMEOUT = Duration.ofSeconds(2);

    private final MachineConfig config;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final RunControl control = new RunControl();
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<KvmStats> vcpuStats = new ArrayList<>();
    private final PortBus ports = new PortBus();
    private final MmioBus mmio = new MmioBus();
    private final SerialConsole serial;
    private final GuestMemory memory;
    private final VmFd vm;
    private final Kvm kvm;
    private boolean started;
    private boolean closed;

    private Machine(MachineConfig config) {
        this.config = config;
        try {
            RomImage rom = config.firmware().load(); // a bad image is reported even without KVM
            kvm = SharedKvm.get();
            MemoryMap map = MemoryMap.pc(config.memoryBytes(), rom.bytes().length);
            // Memory first, so it is unmapped last: after the VM that maps it is gone.
            memory = own(new GuestMemory(map, rom.bytes()));
            vm = own(kvm.createVm());
            vm.setTssAddr(TSS_ADDRESS);
            if (vm.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
                vm.setIdentityMapAddr(IDENTITY_MAP_ADDRESS);
            }
            // The interrupt controllers and the PIT live in the kernel; application processors
            // then wait for the BSP's INIT/SIPI, as on a PC.
            vm.createIrqchip();
            vm.createPit2(KvmConstants.KVM_PIT_SPEAKER_DUMMY);
            memory.register(vm);
            if (config.memPrealloc()) {
                memory.prealloc();
            }
            serial = new SerialConsole(config.serial().openSink());
            Uart16550 com1 = new Uart16550("COM1", serial.uartSink(), level -> vm.irqLine(COM1_IRQ, level));
            serial.attach(com1);
            ports.register(COM1_BASE, 8, com1);
            ports.register(DEBUG_EXIT_PORT, 1, new DebugExitPort(status ->
                    control.end(RunResult.of(RunResult.Reason.DEBUG_EXIT, status,
                            "the guest wrote " + (status >> 1) + " to the debug-exit port"))));
            createVcpus();
        } catch (KvmException e) {
            close();
            throw new JkvmException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private void createVcpus() {
        Topology topology = config.topology();
        List<CpuidEntry> supported = kvm.supportedCpuid();
        for (int i = 0; i < topology.cpus(); i++) {
            int apicId = topology.apicId(i);
            VcpuFd fd = own(vm.createVcpu(apicId));
            fd.setCpuid(CpuidPatch.forVcpu(supported, topology, i));
            vcpuStats.add(openStats(fd));
            vcpus.add(new Vcpu(i, apicId, fd, ports, mmio, memory, control, config.vcpuAffinity().get(i)));
        }
    }

    private KvmStats openStats(VcpuFd fd) {
        try {
            return own(fd.stats());
        } catch (KvmException e) {
            return null; // a KVM without binary statistics (before Linux 5.14): kernel mode is then not shown
        }
    }

    /** Each vCPU's three modes now (or as they ended): exits in user and kernel mode, guest time. */
    public List<VcpuReport> reports() {
        List<VcpuReport> out = new ArrayList<>();
        for (int i = 0; i < vcpus.size(); i++) {
            Vcpu v = vcpus.get(i);
            KvmStats s = vcpuStats.get(i);
            Map<String, Long> kvmCounters = Map.of();
            if (s != null && !closed) {
                synchronized (s) {
                    kvmCounters = s.read();
                }
            }
            out.add(new VcpuReport(v.index(), v.threadName(), v.threadId(), v.counters().snapshot(), kvmCounters, v.times()));
        }
        return out;
    }

    /**
     * Builds a machine from {@code config}: KVM VM, memory, devices, vCPUs. Nothing runs yet.
     *
     * @throws JkvmException for anything the user can fix (no KVM, a bad image)
     */
    public static Machine create(MachineConfig config) {
        return new Machine(config);
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
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
        return serial;
    }

    /** The port-I/O bus, where a test may add its own device before {@link #start()}. */
    public PortBus ports() {
        return ports;
    }

    /** The MMIO bus. */
    public MmioBus mmio() {
        return mmio;
    }

    /** Drives input {@code irq} of the in-kernel interrupt controller (for devices a test adds). */
    public void setIrq(int irq, boolean level) {
        vm.irqLine(irq, level);
    }

    /** The vCPUs, in index order. */
    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /** Starts the vCPU threads (once). */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("machine is closed");
        }
        if (started) {
            return;
        }
        started = true;
        for (Vcpu v : vcpus) {
            v.start();
        }
    }

    /** Whether the guest has ended (and how, through {@link #result()}). */
    public boolean ended() {
        return control.result() != null;
    }

    /** How the run ended, or null while it goes on. */
    public RunResult result() {
        return control.result();
    }

    /**
     * Runs the guest to its end, or until the configured timeout.
     *
     * @return how it ended
     */
    public RunResult run() {
        return run(config.timeout());
    }

    /**
     * Runs the guest to its end, or until {@code timeout} (null: no limit). Meanwhile it watches
     * for a guest whose every vCPU halted with interrupts disabled: nothing can wake such a guest,
     * so its run ends as a halt (status 0), as the bundled ROM guests expect.
     */
    public RunResult run(Duration timeout) {
        start();
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        // The first looks come soon (a tiny guest is often done in milliseconds), then back off.
        long period = HALT_WATCH_FIRST.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Duration slice = Duration.ofNanos(Math.max(0, Math.min(left, period)));
                period = Math.min(period * 2, HALT_WATCH_PERIOD.toNanos());
                RunResult r = control.await(slice);
                if (r != null) {
                    break;
                }
                if (System.nanoTime() - deadline >= 0) {
                    control.end(RunResult.of(RunResult.Reason.TIMEOUT, RunResult.TIMEOUT_STATUS,
                            "the guest ran for longer than " + timeout.toMillis() / 1000.0 + " s"));
                    break;
                }
                if (allHaltedForGood()) {
                    control.end(RunResult.of(RunResult.Reason.HALTED, 0,
                            "every vCPU halted with interrupts disabled"));
                    break;
                }
            }
            joinVcpus();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            control.end(RunResult.of(RunResult.Reason.CLOSED, 1, "interrupted"));
        }
        return control.result();
    }

    private boolean allHaltedForGood() {
        if (control.pauseRequested()) {
            return false; // a stopped machine is not a halted guest
        }
        for (Vcpu v : vcpus) {
            try {
                if (!v.probeDeadHalt(VCPU_ANSWER_TIMEOUT)) {
                    return false;
                }
            } catch (IllegalStateException e) {
                return false; // it ended or did not answer: look again next time
            }
        }
        return true;
    }

    /** Ends the run now (as the monitor's {@code quit} does): every vCPU leaves the guest. */
    public void stop(RunResult why) {
        control.end(why);
    }

    /** Parks every vCPU outside the guest (the monitor's {@code stop}); true when all are parked. */
    public boolean pause() {
        try {
            return control.pause(VCPU_ANSWER_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Lets the vCPUs run again (the monitor's {@code cont}). */
    public void resume() {
        control.resume();
    }

    /** Whether the vCPUs are parked by {@link #pause()}. */
    public boolean paused() {
        return control.pauseRequested();
    }

    private void joinVcpus() throws InterruptedException {
        for (Vcpu v : vcpus) {
            v.join();
        }
    }

    /** Stops the vCPUs (if running), joins their threads and releases every fd and mapping. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        control.end(RunResult.of(RunResult.Reason.CLOSED, 1, "the machine was closed"));
        boolean interrupted = false;
        for (Vcpu v : vcpus) {
            while (v.state() == Vcpu.State.RUNNING) {
                try {
                    v.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        RuntimeException failure = null;
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing the machine", e);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            throw failure;
        }
    }
}
