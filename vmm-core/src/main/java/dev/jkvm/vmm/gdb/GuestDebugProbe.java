package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.host.KvmModule;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * What this host's KVM really does with {@code KVM_SET_GUEST_DEBUG}, measured on a throwaway
 * one-vCPU VM running a few real-mode instructions: KVM accepts the ioctl everywhere, but hosts
 * differ in what then stops the guest. Stock KVM on VMX/SVM intercepts #BP and #DB; kvm_pvm runs
 * the guest in its instruction emulator, which single-steps and honours execution breakpoints but
 * never checks data breakpoints; QEMU's software SVM (the nested VM of {@code scripts/in-vm}) was
 * seen to deliver no debug intercept at all. The stub tells a debugger at attach what will not work.
 *
 * @param singleStep {@code KVM_GUESTDBG_SINGLESTEP} stops after one instruction
 * @param hardwareBreakpoints an execution breakpoint in DR0 stops before the instruction
 * @param watchpoints a write breakpoint in DR0 stops after the write
 * @param softwareBreakpoints an {@code int3} stops the guest (as a #BP exit, or as the emulation
 *     failure on it that the stub turns into the breakpoint)
 */
public record GuestDebugProbe(boolean singleStep, boolean hardwareBreakpoints, boolean watchpoints,
                              boolean softwareBreakpoints) {

    private static final long CODE = 0x1000;
    private static final long DATA = 0x2000;
    private static final long RAM = 0x10000;
    private static final long HANDLER = 0x3000;

    /** The features that do not work, in words, one line; empty when everything does. */
    public List<String> missing() {
        List<String> out = new ArrayList<>();
        if (!softwareBreakpoints) {
            out.add("software breakpoints");
        }
        if (!hardwareBreakpoints) {
            out.add("hardware breakpoints");
        }
        if (!watchpoints) {
            out.add("watchpoints");
        }
        if (!singleStep) {
            out.add("single-step");
        }
        return out;
    }

    /** Runs the four small experiments (a few milliseconds; longer where KVM itself is emulated). */
    public static GuestDebugProbe run(Kvm kvm) {
        // nop; nop; mov [0x2000], al; hlt   (real mode, at 0x1000)
        byte[] code = {(byte) 0x90, (byte) 0x90, (byte) 0xa2, 0x00, 0x20, (byte) 0xf4};
        int enable = KvmConstants.KVM_GUESTDBG_ENABLE;
        boolean step = exitsForDebug(kvm, code, enable | KvmConstants.KVM_GUESTDBG_SINGLESTEP, new long[0]);
        boolean hw = exitsForDebug(kvm, code, enable | KvmConstants.KVM_GUESTDBG_USE_HW_BP,
                debugRegs(CODE + 1, 0b00));
        boolean watch = exitsForDebug(kvm, code, enable | KvmConstants.KVM_GUESTDBG_USE_HW_BP,
                debugRegs(DATA, 0b01));
        boolean sw = softwareBreakpoint(kvm);
        return new GuestDebugProbe(step, hw, watch, sw);
    }

    /** DR0 = address, DR7: L0 enabled, R/W0 = {@code rw} (00 execute, 01 write), LEN0 = 1 byte. */
    private static long[] debugRegs(long address, int rw) {
        long[] dr = new long[8];
        dr[0] = address;
        dr[7] = 1L | (long) rw << 16;
        return dr;
    }

    private static boolean exitsForDebug(Kvm kvm, byte[] code, int control, long[] debugreg) {
        return run(kvm, code, control, debugreg) == KvmConstants.KVM_EXIT_DEBUG;
    }

    /**
     * An int3 with #BP intercepted: a debug exit where KVM intercepts it. kvm_pvm's emulator gives a
     * real-mode int3 to the guest (the probe's IVT sends it to a HLT), but fails to emulate one in
     * protected or long mode, with RIP on it, which the stub takes as the breakpoint (measured on
     * such a host): there software breakpoints work for the kernels people debug.
     */
    private static boolean softwareBreakpoint(Kvm kvm) {
        byte[] code = {(byte) 0xcc, (byte) 0xf4}; // int3; hlt
        int exit = run(kvm, code, KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_USE_SW_BP, new long[0]);
        return exit == KvmConstants.KVM_EXIT_DEBUG || exit == KvmConstants.KVM_EXIT_INTERNAL_ERROR
                || (exit == KvmConstants.KVM_EXIT_HLT && KvmModule.detect().module().equals("kvm_pvm"));
    }

    /** Runs {@code code} at 0x1000 in real mode until an exit other than port I/O; returns its reason (or -1). */
    private static int run(Kvm kvm, byte[] code, int control, long[] debugreg) {
        MemorySegment ram = Libc.mmap(RAM, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE,
                LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS, -1, 0);
        try (VmFd vm = kvm.createVm()) {
            vm.setTssAddr(Layout.TSS);
            MemorySegment.copy(code, 0, ram, ValueLayout.JAVA_BYTE, CODE, code.length);
            // Should the guest take #DB or #BP itself, the real-mode IVT sends it to a HLT, not into zeros.
            ram.set(ValueLayout.JAVA_BYTE, HANDLER, (byte) 0xf4);
            for (int vector : new int[] {1, 3}) {
                ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, vector * 4L, (short) HANDLER);
                ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, vector * 4L + 2, (short) 0);
            }
            vm.setUserMemoryRegion(0, 0, 0, ram);
            try (VcpuFd cpu = vm.createVcpu(0)) {
                Sregs s = cpu.sregs();
                cpu.setSregs(s.withCs(s.cs().realMode(0)));
                cpu.setRegs(cpu.regs().withRip(CODE));
                cpu.setGuestDebug(control, debugreg);
                for (int i = 0; i < 16; i++) {
                    int exit = cpu.run();
                    if (exit != KvmConstants.KVM_EXIT_IO) {
                        return exit;
                    }
                }
                return -1;
            }
        } catch (RuntimeException e) {
            return -1;
        } finally {
            Libc.munmap(ram);
        }
    }
}
