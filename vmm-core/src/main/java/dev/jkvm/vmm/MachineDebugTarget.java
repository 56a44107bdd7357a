package dev.jkvm.vmm;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.vmm.gdb.DebugTarget;
import dev.jkvm.vmm.gdb.FpuState;
import dev.jkvm.vmm.gdb.GuestDebug;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.PageWalker;
import dev.jkvm.vmm.monitor.Monitor;

/**
 * The machine as the GDB stub sees it. The stub calls everything but {@link #kick} while it holds
 * every vCPU outside {@code KVM_RUN}, so the vCPU descriptors are free for this thread's ioctls.
 * Virtual addresses go through jkvm's own walk of the guest's page tables.
 */
final class MachineDebugTarget implements DebugTarget {

    private final Machine machine;

    MachineDebugTarget(Machine machine) {
        this.machine = machine;
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

    /** Page by page through the guest's tables; returns how many bytes could be moved. */
    private int virtual(int cpu, long address, byte[] buf, boolean write) {
        Sregs s = fd(cpu).sregs();
        PageWalker walker = new PageWalker(machine.memory(), s.cr0(), s.cr3(), s.cr4(), s.efer());
        int done = 0;
        while (done < buf.length) {
            long va = address + done;
            var gpa = walker.walk(va).gpa();
            if (gpa.isEmpty()) {
                break;
            }
            int chunk = (int) Math.min(buf.length - done, 4096 - (va & 0xfff));
            byte[] part = new byte[chunk];
            if (write) {
                System.arraycopy(buf, done, part, 0, chunk);
            }
            int n = write ? writePhysical(gpa.get(), part) : readPhysical(gpa.get(), part);
            if (!write) {
                System.arraycopy(part, 0, buf, done, n);
            }
            done += n;
            if (n < chunk) {
                break;
            }
        }
        return done;
    }

    @Override
    public int readVirtual(int cpu, long address, byte[] into) {
        return virtual(cpu, address, into, false);
    }

    @Override
    public int writeVirtual(int cpu, long address, byte[] from) {
        return virtual(cpu, address, from, true);
    }

    @Override
    public int readPhysical(long address, byte[] into) {
        GuestMemory m = machine.memory();
        int n = backedPrefix(m, address, into.length);
        if (n > 0) {
            System.arraycopy(m.read(address, n), 0, into, 0, n);
        }
        return n;
    }

    @Override
    public int writePhysical(long address, byte[] from) {
        GuestMemory m = machine.memory();
        int n = backedPrefix(m, address, from.length);
        if (n > 0) {
            byte[] part = n == from.length ? from : java.util.Arrays.copyOf(from, n);
            m.write(address, part); // ROM too: gdb plants breakpoints in firmware
        }
        return n;
    }

    private static int backedPrefix(GuestMemory m, long address, int length) {
        int n = length;
        while (n > 0 && !m.isBacked(address, n)) {
            n--;
        }
        return n;
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
     * What KVM_SET_GUEST_DEBUG really does on this host, measured once (at the first attach) on a
     * throwaway VM: hosts accept the ioctl but differ in what then stops the guest.
     */
    @Override
    public java.util.List<String> attachNotes() {
        java.util.List<String> missing = new java.util.ArrayList<>(probe().missing());
        java.util.List<String> notes = new java.util.ArrayList<>();
        if (watchpointsBySingleStep()) {
            missing.remove("watchpoints");
            notes.add("this host's KVM never stops the guest for a data breakpoint: write watchpoints (watch, awatch)"
                    + " are emulated by single-stepping every vCPU while one is set, so the guest runs far slower;"
                    + " read watchpoints (rwatch) never fire");
        }
        if (!missing.isEmpty()) {
            String why = dev.jkvm.vmm.host.KvmModule.detect().module().equals("kvm_pvm")
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

    private dev.jkvm.vmm.gdb.GuestDebugProbe probe;

    synchronized dev.jkvm.vmm.gdb.GuestDebugProbe probe() {
        if (probe == null) {
            probe = dev.jkvm.vmm.gdb.GuestDebugProbe.run(SharedKvm.get());
        }
        return probe;
    }

    @Override
    public void kill() {
        machine.stop(RunResult.of(RunResult.Reason.QUIT, 0, "killed from the debugger"));
    }
}
