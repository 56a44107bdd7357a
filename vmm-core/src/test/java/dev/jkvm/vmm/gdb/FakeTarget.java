package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.DescriptorTable;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * A machine without KVM: registers in arrays, 64 KiB of "physical" memory that virtual addresses
 * reach at {@link #VIRTUAL_BASE} + physical (like a kernel's direct map). Thread-safe by
 * synchronizing every method, so fake vCPU threads and the session thread may share it.
 */
final class FakeTarget implements DebugTarget {

    static final long VIRTUAL_BASE = 0xffff_8000_0000_0000L;
    static final int MEMORY_SIZE = 64 * 1024;

    final byte[] memory = new byte[MEMORY_SIZE];
    private final Regs[] regs;
    private final Sregs[] sregs;
    private final FpuState[] fpu;
    private final GuestDebug[] debug;
    final List<String> monitorCommands = new ArrayList<>();
    final List<GuestDebug> debugHistory = new ArrayList<>();
    volatile boolean killed;
    volatile IntConsumer kicker = cpu -> { };

    FakeTarget(int cpus) {
        regs = new Regs[cpus];
        sregs = new Sregs[cpus];
        fpu = new FpuState[cpus];
        debug = new GuestDebug[cpus];
        for (int i = 0; i < cpus; i++) {
            regs[i] = new Regs(0, 0, 0, 0, 0, 0, VIRTUAL_BASE + 0x8000, 0, 0, 0, 0, 0, 0, 0, 0, 0, VIRTUAL_BASE + 0x1000, 0x2);
            sregs[i] = longModeSregs();
            fpu[i] = FpuState.initial();
            debug[i] = GuestDebug.OFF;
        }
    }

    static Sregs longModeSregs() {
        Segment code = new Segment(0, 0xffffffff, 0x10, 11, true, 0, false, true, true, true, false, false);
        Segment data = new Segment(0, 0xffffffff, 0x18, 3, true, 0, true, true, false, true, false, false);
        Segment tss = new Segment(0, 0x67, 0x28, 11, true, 0, false, false, false, false, false, false);
        Segment ldt = new Segment(0, 0, 0, 2, false, 0, false, false, false, false, false, true);
        return new Sregs(code, data, data, data, data, data, tss, ldt, new DescriptorTable(0x500, 0x2f),
                new DescriptorTable(0, 0xfff), 0x80050033L, 0, 0x9000, 0x20, 0, 0x500, 0xfee00900L);
    }

    @Override
    public int cpuCount() {
        return regs.length;
    }

    @Override
    public synchronized Regs regs(int cpu) {
        return regs[cpu];
    }

    @Override
    public synchronized void setRegs(int cpu, Regs r) {
        regs[cpu] = r;
    }

    @Override
    public synchronized Sregs sregs(int cpu) {
        return sregs[cpu];
    }

    @Override
    public synchronized void setSregs(int cpu, Sregs s) {
        sregs[cpu] = s;
    }

    @Override
    public synchronized FpuState fpu(int cpu) {
        return fpu[cpu];
    }

    @Override
    public synchronized void setFpu(int cpu, FpuState f) {
        fpu[cpu] = f;
    }

    @Override
    public synchronized int readVirtual(int cpu, long address, byte[] into) {
        return readPhysical(address - VIRTUAL_BASE, into);
    }

    @Override
    public synchronized int writeVirtual(int cpu, long address, byte[] from) {
        return writePhysical(address - VIRTUAL_BASE, from);
    }

    @Override
    public synchronized int readPhysical(long address, byte[] into) {
        int n = available(address, into.length);
        if (n > 0) {
            System.arraycopy(memory, (int) address, into, 0, n);
        }
        return n;
    }

    @Override
    public synchronized int writePhysical(long address, byte[] from) {
        int n = available(address, from.length);
        if (n > 0) {
            System.arraycopy(from, 0, memory, (int) address, n);
        }
        return n;
    }

    private static int available(long address, int length) {
        if (address < 0 || address >= MEMORY_SIZE) {
            return 0;
        }
        return (int) Math.min(length, MEMORY_SIZE - address);
    }

    @Override
    public synchronized void setGuestDebug(int cpu, GuestDebug d) {
        debug[cpu] = d;
        debugHistory.add(d);
    }

    synchronized GuestDebug guestDebug(int cpu) {
        return debug[cpu];
    }

    @Override
    public void kick(int cpu) {
        kicker.accept(cpu);
    }

    @Override
    public synchronized String monitor(String command) {
        monitorCommands.add(command);
        return command.equals("info version") ? "jkvm fake\n" : "";
    }

    @Override
    public void kill() {
        killed = true;
    }

    synchronized byte physicalByte(long address) {
        return memory[(int) address];
    }

    synchronized void load(long physical, byte... code) {
        System.arraycopy(code, 0, memory, (int) physical, code.length);
    }
}
