package dev.jkvm.vmm.vcpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmRun;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.memory.GuestMemory;
import java.lang.foreign.MemorySegment;

/**
 * One vCPU and its run loop: enter the guest with {@code KVM_RUN}, dispatch the exit to the
 * port-I/O or MMIO bus, or end the run with a report. Runs on its own platform thread, named as
 * QEMU names it ({@code CPU 0/KVM}).
 *
 * <p>The loop allocates nothing and takes no lock per exit; counters are plain arrays owned by
 * this thread. Another thread stops it with {@link #kick()}: {@code immediate_exit} plus a signal
 * that is blocked in this thread except inside {@code KVM_RUN} (QEMU's and kvmtool's technique),
 * so it interrupts the guest without ever running a handler.
 */
public final class Vcpu implements Runnable {

    /** The signal that kicks a vCPU out of the guest: a real-time one, which the JVM does not use. */
    static final int KICK_SIGNAL = LibcConstants.SIGRTMIN + 4;

    /** Exit reasons are small numbers; counted per reason. */
    private static final int MAX_EXIT_REASON = 64;

    private final int index;
    private final VcpuFd fd;
    private final MemorySegment run;
    private final PortBus ports;
    private final MmioBus mmio;
    private final GuestMemory memory;
    private final RunControl control;
    private final long[] exitCounts = new long[MAX_EXIT_REASON];
    private volatile int tid;

    public Vcpu(int index, VcpuFd fd, PortBus ports, MmioBus mmio, GuestMemory memory, RunControl control) {
        this.index = index;
        this.fd = fd;
        this.run = fd.kvmRun();
        this.ports = ports;
        this.mmio = mmio;
        this.memory = memory;
        this.control = control;
        control.attach(this);
    }

    /** The vCPU index. */
    public int index() {
        return index;
    }

    /** The thread name QEMU gives this vCPU. */
    public String threadName() {
        return "CPU " + index + "/KVM";
    }

    /** The Linux thread id of the vCPU thread, 0 before it started. */
    public int tid() {
        return tid;
    }

    /** How many exits of {@code reason} reached jkvm. */
    public long exitCount(int reason) {
        return reason >= 0 && reason < MAX_EXIT_REASON ? exitCounts[reason] : 0;
    }

    /** Once per process, before any vCPU thread runs: a stray kick is dropped, never fatal. */
    static {
        Libc.ignoreSignal(KICK_SIGNAL);
    }

    @Override
    public void run() {
        try {
            fd.setSignalMask(Libc.blockSignalForKvmRun(KICK_SIGNAL));
            tid = Libc.gettid(); // published only once the kick is blocked here
            loop();
        } catch (RuntimeException | Error e) {
            control.end(RunResult.of(RunResult.Reason.ERROR, 1, "CPU " + index + ": " + e));
        } finally {
            tid = 0;
        }
    }

    private void loop() {
        while (!control.stopping()) {
            int reason = fd.run();
            if (reason == VcpuFd.INTERRUPTED) {
                Libc.consumePendingSignal(KICK_SIGNAL);
                if (!control.stopping()) {
                    fd.setImmediateExit(false); // a kick that asked for nothing more than a look outside
                }
                continue;
            }
            if (reason >= 0 && reason < MAX_EXIT_REASON) {
                exitCounts[reason]++;
            }
            switch (reason) {
                case KvmConstants.KVM_EXIT_IO -> handleIo();
                case KvmConstants.KVM_EXIT_MMIO -> handleMmio();
                case KvmConstants.KVM_EXIT_HLT ->
                        control.end(RunResult.of(RunResult.Reason.HALTED, 0, "CPU " + index + " halted"));
                case KvmConstants.KVM_EXIT_SHUTDOWN -> control.end(RunResult.crash(RunResult.Reason.TRIPLE_FAULT, report(reason)));
                case KvmConstants.KVM_EXIT_INTERNAL_ERROR ->
                        control.end(RunResult.crash(RunResult.Reason.INTERNAL_ERROR, report(reason)));
                case KvmConstants.KVM_EXIT_FAIL_ENTRY -> control.end(RunResult.crash(RunResult.Reason.FAIL_ENTRY, report(reason)));
                case KvmConstants.KVM_EXIT_SYSTEM_EVENT -> handleSystemEvent();
                case KvmConstants.KVM_EXIT_INTR -> {
                    // A signal arrived during KVM_RUN that was not our kick: just go back in.
                }
                default -> control.end(RunResult.crash(RunResult.Reason.UNHANDLED_EXIT, report(reason)));
            }
        }
    }

    private void handleIo() {
        boolean out = run.get(JAVA_BYTE, KvmRun.IO_DIRECTION) == KvmConstants.KVM_EXIT_IO_OUT;
        int size = run.get(JAVA_BYTE, KvmRun.IO_SIZE);
        int port = Short.toUnsignedInt(run.get(JAVA_SHORT, KvmRun.IO_PORT));
        int count = run.get(JAVA_INT, KvmRun.IO_COUNT);
        long at = run.get(JAVA_LONG, KvmRun.IO_DATA_OFFSET);
        // A string instruction (rep outsb/insb) hands over count items in one exit.
        for (int i = 0; i < count; i++, at += size) {
            if (out) {
                ports.write(port, size, readData(at, size));
            } else {
                writeData(at, size, ports.read(port, size));
            }
        }
    }

    private int readData(long at, int size) {
        return switch (size) {
            case 1 -> Byte.toUnsignedInt(run.get(JAVA_BYTE, at));
            case 2 -> Short.toUnsignedInt(run.get(JAVA_SHORT_UNALIGNED, at));
            default -> run.get(JAVA_INT_UNALIGNED, at);
        };
    }

    private void writeData(long at, int size, int value) {
        switch (size) {
            case 1 -> run.set(JAVA_BYTE, at, (byte) value);
            case 2 -> run.set(JAVA_SHORT_UNALIGNED, at, (short) value);
            default -> run.set(JAVA_INT_UNALIGNED, at, value);
        }
    }

    private void handleMmio() {
        long address = run.get(JAVA_LONG, KvmRun.MMIO_PHYS_ADDR);
        int len = run.get(JAVA_INT, KvmRun.MMIO_LEN);
        boolean write = run.get(JAVA_BYTE, KvmRun.MMIO_IS_WRITE) != 0;
        long mask = len >= 8 ? -1L : (1L << (8 * len)) - 1;
        if (write) {
            mmio.write(address, len, run.get(JAVA_LONG_UNALIGNED, KvmRun.MMIO_DATA) & mask);
        } else {
            run.set(JAVA_LONG_UNALIGNED, KvmRun.MMIO_DATA, mmio.read(address, len) & mask);
        }
    }

    private void handleSystemEvent() {
        int type = run.get(JAVA_INT, KvmRun.SYSTEM_EVENT_TYPE);
        switch (type) {
            case KvmConstants.KVM_SYSTEM_EVENT_SHUTDOWN ->
                    control.end(RunResult.of(RunResult.Reason.POWER_OFF, 0, "the guest powered off"));
            case KvmConstants.KVM_SYSTEM_EVENT_RESET ->
                    control.end(RunResult.of(RunResult.Reason.RESET, 0, "the guest reset the machine"));
            default -> control.end(RunResult.crash(RunResult.Reason.UNHANDLED_EXIT, report(KvmConstants.KVM_EXIT_SYSTEM_EVENT)));
        }
    }

    /** Gathers the registers and the code at RIP for a crash report (off the hot path). */
    private ExitReport report(int reason) {
        Regs regs = fd.regs();
        Sregs sregs = fd.sregs();
        long codeAddress = codeAddress(regs, sregs);
        byte[] code = new byte[0];
        if (codeAddress >= 0) {
            int n = 16;
            while (n > 0 && !memory.isBacked(codeAddress, n)) {
                n--;
            }
            code = n > 0 ? memory.read(codeAddress, n) : code;
        }
        return ExitReport.of(index, reason, run, regs, sregs, codeAddress, code);
    }

    /** The guest-physical address of CS:RIP, or -1 if the page tables do not map it. */
    private long codeAddress(Regs regs, Sregs sregs) {
        boolean protectedMode = (sregs.cr0() & 1) != 0;
        long linear = sregs.cs().base() + (protectedMode ? regs.rip() : regs.rip() & 0xffff);
        if ((sregs.cr0() & (1L << 31)) == 0) {
            return linear & 0xffff_ffffL;
        }
        try {
            return fd.translate(linear);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * Makes the vCPU leave the guest soon: sets {@code immediate_exit} (covers the window before
     * the next KVM_RUN) and signals the thread (interrupts a KVM_RUN in progress). Any thread.
     */
    public void kick() {
        fd.setImmediateExit(true);
        int t = tid;
        if (t != 0) {
            try {
                Libc.tgkill(t, KICK_SIGNAL);
            } catch (RuntimeException e) {
                // The thread has already exited: nothing to interrupt.
            }
        }
    }
}
