package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SharedKvm;
import dev.jkvm.vmm.host.KvmModule;
import dev.jkvm.vmm.memory.GuestView;
import dev.jkvm.vmm.monitor.Monitor;
import java.util.ArrayList;
import java.util.List;

/**
 * The machine as the GDB stub sees it. The stub calls everything but {@link #kick} while it holds
 * every vCPU outside {@code KVM_RUN}, so the vCPU descriptors are free for this thread's ioctls.
 * Memory goes through the machine's {@link GuestView} with the control registers read directly
 * (the vCPUs are held), so virtual addresses go through jkvm's own walk of the guest's page tables.
 */
public final class MachineDebugTarget implements DebugTarget {

    private final Machine machine;
    private final GuestView view;
    /** The host's answer, measured once per process: it is the KVM's, not the machine's. */
    private static GuestDebugProbe probe;

    /** @param guest the machine's guest view (given while the machine is being built, before {@code machine.guest()} answers) */
    public MachineDebugTarget(Machine machine, GuestView guest) {
        this.machine = machine;
        this.view = guest.withRegisters(cpu -> fd(cpu).sregs());
    }

    private VcpuFd fd(int cpu) {
        return machine.vcpus().get(cpu).fd();
    }

    @Override
    public int cpuCount() {
        return machine.config().topology().cpus();
    }

    @Override
    public Regs regs(int cpu) {
        return fd(cpu).regs();
    }

    @Override
    public void setRegs(int cpu, Regs regs) {
        fd(cpu).setRegs(regs);
    }

    @Override
    public Sregs sregs(int cpu) {
        return fd(cpu).sregs();
    }

    @Override
    public void setSregs(int cpu, Sregs sregs) {
        fd(cpu).setSregs(sregs);
    }

    @Override
    public FpuState fpu(int cpu) {
        return FpuState.fromKvm(fd(cpu).fpu());
    }

    @Override
    public void setFpu(int cpu, FpuState fpu) {
        fd(cpu).setFpu(fpu.toKvm());
    }

    @Override
    public int readVirtual(int cpu, long address, byte[] into) {
        return view.readVirtualPrefix(cpu, address, into);
    }

    @Override
    public int writeVirtual(int cpu, long address, byte[] from) {
        return view.writeVirtualPrefix(cpu, address, from);
    }

    @Override
    public int readPhysical(long address, byte[] into) {
        return view.readPhysicalPrefix(address, into);
    }

    @Override
    public int writePhysical(long address, byte[] from) {
        return view.writePhysicalPrefix(address, from); // ROM too: gdb plants breakpoints in firmware
    }

    @Override
    public void setGuestDebug(int cpu, GuestDebug debug) {
        fd(cpu).setGuestDebug(debug.control(), debug.debugreg());
    }

    @Override
    public void kick(int cpu) {
        machine.vcpus().get(cpu).kick();
    }

    @Override
    public String monitor(String command) {
        return new Monitor(machine).execute(command);
    }

    /**
     * What KVM_SET_GUEST_DEBUG really does on this host, measured once per process (begun when the stub is made) on a
     * throwaway VM: hosts accept the ioctl but differ in what then stops the guest.
     */
    @Override
    public List<String> attachNotes() {
        List<String> missing = new ArrayList<>(probe().missing());
        List<String> notes = new ArrayList<>();
        if (watchpointsBySingleStep()) {
            missing.remove("watchpoints");
            notes.add("this host's KVM never stops the guest for a data breakpoint: write watchpoints (watch, awatch)"
                    + " are emulated by single-stepping every vCPU while one is set, so the guest runs far slower;"
                    + " read watchpoints (rwatch) never fire");
        }
        if (!missing.isEmpty()) {
            String why = KvmModule.detect().module().equals("kvm_pvm")
                    ? " (kvm_pvm runs the guest in KVM's instruction emulator)" : "";
            notes.add(0, "this host's KVM accepts KVM_SET_GUEST_DEBUG but never stops the guest for: "
                    + String.join(", ", missing) + why + "; measured at attach");
        }
        return notes;
    }

    @Override
    public boolean watchpointsBySingleStep() {
        return probe().singleStep() && !probe().watchpoints();
    }

    /**
     * Starts the probe now, on a daemon thread, so that it is done when a debugger attaches: gdb
     * gives its first packet 2 s for a reply, which a probe started at attach on a loaded host can
     * take (the README's GDB session then saw "Remote replied unexpectedly"). An attach before it
     * ends waits for it; a probe that fails reports at attach. Once per process.
     */
    public MachineDebugTarget probeInBackground() {
        Thread.ofPlatform().daemon().name("gdb-probe").start(() -> {
            try {
                probe();
            } catch (RuntimeException e) {
                // the attach asks again and reports it
            }
        });
        return this;
    }

    static synchronized GuestDebugProbe probe() {
        if (probe == null) {
            probe = GuestDebugProbe.run(SharedKvm.get());
        }
        return probe;
    }

    @Override
    public void kill() {
        machine.stop(RunResult.of(RunResult.Reason.QUIT, 0, "killed from the debugger"));
    }
}
