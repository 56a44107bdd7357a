package dev.jkvm.vmm.boot;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.Uart16550;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.vcpu.RunControl;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.stats.UserModeStats;
import dev.jkvm.vmm.stats.VcpuCounters;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The least machine that proves a loader on real KVM, without the project's Machine: a VM with
 * guest memory, one vCPU (CPUID as KVM supports it), no interrupt controller, and COM1 collecting
 * what the guest prints. The vCPU runs the project's run loop ({@link Vcpu}) on its own thread, so
 * a guest that never halts is stopped after a time limit.
 */
final class TinyVm implements AutoCloseable {

    /** KVM's TSS and identity-map pages, where Machine puts them; the e820 map reserves them as QEMU does. */
    static final long KVM_PAGES = 0xfeffc000L;
    static final int ROM_SIZE = 64 * 1024;

    final GuestMemory memory;
    final E820 e820;
    private final Kvm kvm;
    private final VmFd vm;
    private final VcpuFd cpu;
    private final ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private RunResult result;
    private String exits = "";

    TinyVm(long ramBytes) {
        MemoryMap map = MemoryMap.pc(ramBytes, ROM_SIZE);
        // A ROM that is all HLT: a CPU that ever reaches the reset vector stops there.
        byte[] rom = new byte[ROM_SIZE];
        Arrays.fill(rom, (byte) 0xf4);
        memory = new GuestMemory(map, rom);
        e820 = E820.of(map, List.of(E820.Entry.reserved(KVM_PAGES, 0x4000)));
        kvm = Kvm.open();
        vm = kvm.createVm();
        vm.setTssAddr(KVM_PAGES + 0x1000);
        if (vm.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
            vm.setIdentityMapAddr(KVM_PAGES);
        }
        memory.register(vm);
        cpu = vm.createVcpu(0);
        cpu.setCpuid(kvm.supportedCpuid());
    }

    /** Sets the entry state on the vCPU, runs it until it halts (or {@code limit} passes) and returns what it printed. */
    String run(BootEntry entry, Duration limit) throws InterruptedException {
        return run(entry, limit, null);
    }

    /**
     * As {@link #run(BootEntry, Duration)}, but also ends the run as soon as the serial output
     * holds {@code enough} followed by a line end (so a slow guest is not waited for longer than
     * the test needs).
     */
    String run(BootEntry entry, Duration limit, String enough) throws InterruptedException {
        cpu.setSregs(entry.applyTo(cpu.sregs()));
        cpu.setRegs(entry.regs());
        RunControl control = new RunControl();
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (serial) {
                    serial.write(b);
                    if (enough != null && b == '\n' && output().contains(enough)) {
                        control.end(RunResult.of(RunResult.Reason.CLOSED, 0, "the test saw \"" + enough + "\""));
                    }
                }
            }
        };
        PortBus ports = new PortBus();
        ports.register(0x3f8, 8, new Uart16550(sink, IrqLine.none()));
        Vcpu vcpu = new Vcpu(0, 0, cpu, ports, new MmioBus(), memory, control, new VcpuCounters(), null, null);
        Thread t = Thread.ofPlatform().name(vcpu.threadName()).daemon(true).start(vcpu);
        result = control.await(limit);
        if (result == null) {
            control.end(RunResult.of(RunResult.Reason.TIMEOUT, RunResult.TIMEOUT_STATUS, "test time limit"));
            result = control.result();
        }
        t.join();
        UserModeStats stats = vcpu.counters().snapshot();
        exits = "io=" + stats.count(KvmConstants.KVM_EXIT_IO) + " mmio=" + stats.count(KvmConstants.KVM_EXIT_MMIO)
                + " hlt=" + stats.count(KvmConstants.KVM_EXIT_HLT);
        return output();
    }

    /** Where the vCPU is and what it did, for a failure message. */
    String state() {
        Regs r = cpu.regs();
        Sregs s = cpu.sregs();
        return String.format("rip=0x%x rsp=0x%x rax=0x%x cr0=0x%x cr3=0x%x cr4=0x%x efer=0x%x cs=%s exits: %s",
                r.rip(), r.rsp(), r.rax(), s.cr0(), s.cr3(), s.cr4(), s.efer(), s.cs(), exits);
    }

    /** How the run ended. */
    RunResult result() {
        return result;
    }

    String output() {
        synchronized (serial) {
            return serial.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Override
    public void close() {
        cpu.close();
        vm.close();
        kvm.close();
        memory.close();
    }
}
