package dev.jkvm.vmm;

import dev.jkvm.devices.DebugExitPort;
import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.Uart16550;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.KvmUnavailableException;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.boot.RomImage;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.vcpu.RunControl;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * One virtual machine: it owns every resource it creates (the KVM handles, guest memory, devices,
 * vCPU threads) and {@link #close()} releases them all, in reverse order, whatever the guest is
 * doing. The CLI is a thin layer over this class.
 *
 * <pre>{@code
 * try (Machine m = Machine.create(MachineConfig.builder().serial(SerialBackend.stream(out)).build())) {
 *     RunResult r = m.run();
 * }
 * }</pre>
 */
public final class Machine implements AutoCloseable {

    /** QEMU's choice for the three pages KVM needs for real mode on Intel hosts, just below the ROM window. */
    static final long TSS_ADDRESS = 0xfeffd000L;
    static final long IDENTITY_MAP_ADDRESS = 0xfeffc000L;
    /** COM1. */
    static final int COM1_BASE = 0x3f8;
    /** QEMU's isa-debug-exit default iobase. */
    static final int DEBUG_EXIT_PORT = 0xf4;

    private final MachineConfig config;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final RunControl control = new RunControl();
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final GuestMemory memory;
    private final PortBus ports = new PortBus();
    private final MmioBus mmio = new MmioBus();
    private boolean started;
    private boolean closed;

    private Machine(MachineConfig config) {
        this.config = config;
        try {
            RomImage rom = config.firmware().load();
            MemoryMap map = MemoryMap.pc(config.memoryBytes(), rom.bytes().length);
            // Memory first, so it is unmapped last: after the VM that maps it is gone.
            memory = own(new GuestMemory(map, rom.bytes()));
            Kvm kvm = own(Kvm.open());
            VmFd vm = own(kvm.createVm());
            vm.setTssAddr(TSS_ADDRESS);
            if (vm.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
                vm.setIdentityMapAddr(IDENTITY_MAP_ADDRESS);
            }
            memory.register(vm);
            ports.register(COM1_BASE, 8, new Uart16550(serialSink(config.serial()), IrqLine.NONE));
            ports.register(DEBUG_EXIT_PORT, 1, new DebugExitPort(status ->
                    control.end(RunResult.of(RunResult.Reason.DEBUG_EXIT, status,
                            "the guest wrote " + (status >> 1) + " to the debug-exit port"))));
            VcpuFd cpu = own(vm.createVcpu(0));
            cpu.setCpuid(kvm.supportedCpuid());
            vcpus.add(new Vcpu(0, cpu, ports, mmio, memory, control));
        } catch (KvmUnavailableException e) {
            close();
            throw new JkvmException(e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
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

    private static OutputStream serialSink(SerialBackend backend) {
        return switch (backend) {
            case SerialBackend.Stdio s -> new FileOutputStream(FileDescriptor.out);
            case SerialBackend.None n -> OutputStream.nullOutputStream();
            case SerialBackend.Stream s -> s.out();
        };
    }

    /** The configuration this machine was built from. */
    public MachineConfig config() {
        return config;
    }

    /** The guest's memory, for inspection. */
    public GuestMemory memory() {
        return memory;
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
            Thread t = Thread.ofPlatform().name(v.threadName()).daemon(true).unstarted(v);
            threads.add(t);
            t.start();
        }
    }

    /**
     * Runs the guest to its end, or until the configured timeout.
     *
     * @return how it ended
     */
    public RunResult run() {
        start();
        try {
            RunResult r = control.await(config.timeout());
            if (r == null) {
                control.end(RunResult.of(RunResult.Reason.TIMEOUT, RunResult.TIMEOUT_STATUS,
                        "the guest ran for longer than " + config.timeout().toMillis() / 1000.0 + " s"));
                r = control.result();
            }
            joinVcpus();
            return r;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            control.end(RunResult.of(RunResult.Reason.CLOSED, 1, "interrupted"));
            return control.result();
        }
    }

    private void joinVcpus() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
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
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
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
