package dev.jkvm.vmm.gdb;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.jkvm.kvm.DescriptorTable;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.SharedKvm;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the stub assumes of KVM, checked on KVM: the guest-debug settings it computes produce the
 * debug exits it classifies (int3 with RIP on it, single step with DR6.BS, DR0-3 hits with their
 * B bits, a watchpoint trapping after the write), FPU state round-trips, and a #BP that is the
 * guest's own reaches the guest's handler when handed back with KVM_GUESTDBG_INJECT_BP.
 *
 * <p>Two kinds of host: with VMX/SVM the guest runs natively and KVM intercepts #BP/#DB (the
 * behaviour of the kernel's selftest). Without (PVM), KVM runs such a guest in its instruction
 * emulator, which honours single-step and execute breakpoints but not data breakpoints, and
 * cannot emulate int3 outside real mode: it fails emulation with RIP on the int3, which
 * {@link GdbStub#emulationFailure} turns into the breakpoint stop. Each test checks the
 * behaviour of the host it runs on.
 * A long-mode vCPU over 1 MiB, identity-mapped (virtual = physical), as the KVM selftest
 * {@code x86/debug_regs.c} runs it.
 */
@RequiresKvm
class KvmDebugExitsTest {

    private static final int MEMORY = 1 << 20;
    private static final byte NOP = (byte) 0x90;
    private static final byte HLT = (byte) 0xf4;

    private final Kvm kvm = Kvm.open();
    private final VmFd vm = kvm.createVm();
    private final MemorySegment memory = Libc.mmap(MEMORY, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE,
            LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS, -1, 0);
    private final VcpuFd cpu;
    private final DebugTarget target;
    private final CommandHandler commands;

    KvmDebugExitsTest() {
        vm.setTssAddr(0xfeffd000L);
        vm.setUserMemoryRegion(0, 0, 0, memory);
        cpu = vm.createVcpu(0);
        cpu.setCpuid(kvm.supportedCpuid());
        // Identity-map the first 2 MiB with one large page: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000.
        memory.set(JAVA_LONG, 0x10000, 0x11000 | 3);
        memory.set(JAVA_LONG, 0x11000, 0x12000 | 3);
        memory.set(JAVA_LONG, 0x12000, 0x83);
        // IDT at 0x13000: vector 3 is an interrupt gate to 0x1100 (for the guest's own int3).
        memory.set(JAVA_LONG, 0x13000 + 3 * 16, 0x1100 | 8L << 16 | 0x8e00L << 32);
        Sregs s = cpu.sregs();
        Segment code = new Segment(0, 0xffffffff, 8, 11, true, 0, false, true, true, true, false, false);
        Segment data = new Segment(0, 0xffffffff, 16, 3, true, 0, true, true, false, true, false, false);
        cpu.setSregs(new Sregs(code, data, data, data, data, data, s.tr(), s.ldt(), s.gdt(),
                new DescriptorTable(0x13000, 0xfff),
                0x80050033L, 0, 0x10000, 0x20, 0, 0x500, s.apicBase()));
        cpu.setRegs(new Regs(0, 0, 0, 0, 0, 0, 0x8000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1000, 0x2));
        target = new PhysicalTarget();
        commands = new CommandHandler(target);
    }

    @AfterEach
    void close() {
        cpu.close();
        vm.close();
        kvm.close();
        Libc.munmap(memory);
    }

    private void load(long at, byte... code) {
        MemorySegment.copy(code, 0, memory, JAVA_BYTE, at, code.length);
    }

    /** Whether guest code runs natively (VMX/SVM) rather than in KVM's instruction emulator (PVM). */
    private static boolean hostRunsGuestsNatively() {
        try {
            String flags = Files.readString(Path.of("/proc/cpuinfo"));
            return flags.contains(" vmx") || flags.contains(" svm");
        } catch (IOException e) {
            return true;
        }
    }

    private static final boolean NATIVE = hostRunsGuestsNatively();

    /**
     * What this host's KVM really delivers (QEMU's software SVM, in scripts/in-vm, has SVM but
     * delivers no debug intercept): where a feature is missing, each test checks that nothing
     * stops the guest, which is what the stub tells a debugger at attach.
     */
    private static final GuestDebugProbe DEBUG = GuestDebugProbe.run(SharedKvm.get());

    /** Runs armed and checks the guest was not stopped for the debugger (the feature is missing here). */
    private void assertNotStopped(boolean stepping) {
        arm(stepping);
        int reason = cpu.run();
        assertTrue(reason != KvmConstants.KVM_EXIT_DEBUG, "a debug exit where the probe found none: " + exitDescription(reason));
    }

    private GuestDebug arm(boolean stepping) {
        GuestDebug debug = commands.guestDebug(stepping);
        cpu.setGuestDebug(debug.control(), debug.debugreg());
        return debug;
    }

    private ArmedState armed(GuestDebug debug) {
        HardwareBreakpoints.Slot[] slots = new HardwareBreakpoints.Slot[4];
        for (int n = 0; n < 4; n++) {
            slots[n] = commands.hardware.slot(n);
        }
        return new ArmedState(commands.software.addresses(), slots, new GuestDebug[] {debug});
    }

    private String exitDescription(int reason) {
        return "exit " + KvmConstants.exitReasonName(reason) + " (suberror "
                + cpu.exit().internal().suberror() + ") at rip " + Long.toHexString(cpu.regs().rip());
    }

    /** Runs with what the stub would arm; returns the classification of the debug exit. */
    private StopReason runArmed(boolean stepping) {
        GuestDebug debug = arm(stepping);
        int reason = cpu.run();
        assertEquals(KvmConstants.KVM_EXIT_DEBUG, reason, exitDescription(reason));
        VcpuExit.Debug exit = cpu.exit().debug();
        return armed(debug).classify(0, exit.exception(), exit.pc(), exit.dr6());
    }

    /**
     * Runs into an int3; returns what the stub makes of the exit: a #BP debug exit on a native
     * host, an emulation failure on the int3 on an emulating one.
     */
    private StopReason runIntoInt3() {
        GuestDebug debug = arm(false);
        int reason = cpu.run();
        ArmedState armed = armed(debug);
        VcpuExit exit = cpu.exit();
        if (NATIVE) {
            assertEquals(KvmConstants.KVM_EXIT_DEBUG, reason, exitDescription(reason));
            assertEquals(GuestDebug.ExceptionVector.BP, exit.debug().exception());
            return armed.classify(0, GuestDebug.ExceptionVector.BP, exit.debug().pc(), 0);
        }
        assertEquals(KvmConstants.KVM_EXIT_INTERNAL_ERROR, reason, exitDescription(reason));
        assertEquals(KvmConstants.KVM_INTERNAL_ERROR_EMULATION, exit.internal().suberror());
        GdbStub stub = new GdbStub(target, false, line -> { });
        stub.arm(armed);
        boolean taken = stub.emulationFailure(0, cpu.regs().rip());
        StopReason why = armed.classify(0, GuestDebug.ExceptionVector.BP, cpu.regs().rip(), 0);
        assertEquals(why != null, taken);
        return why;
    }

    private String reply(String packet) {
        return assertInstanceOf(Outcome.Reply.class, commands.handle(packet)).packets().getFirst();
    }

    @Test
    void softwareBreakpointStopsWithRipOnTheInt3() {
        load(0x1000, NOP, NOP, NOP, NOP, HLT);
        assertEquals("OK", reply("Z0,1002,1"));
        if (!DEBUG.softwareBreakpoints()) {
            assertNotStopped(false);
            return;
        }
        assertEquals(new StopReason.SoftwareBreakpoint(0x1002), runIntoInt3());
        assertEquals(0x1002, cpu.regs().rip());
        assertEquals("90", reply("m1002,1"));
    }

    @Test
    void singleStepStopsAfterOneInstruction() {
        load(0x1000, NOP, NOP, HLT);
        if (!DEBUG.singleStep()) {
            assertNotStopped(true);
            return;
        }
        assertEquals(new StopReason.SingleStep(), runArmed(true));
        assertEquals(0x1001, cpu.regs().rip());
        assertEquals(new StopReason.SingleStep(), runArmed(true));
        assertEquals(0x1002, cpu.regs().rip());
    }

    @Test
    void hardwareBreakpointStopsBeforeTheInstruction() {
        load(0x1000, NOP, NOP, NOP, NOP, HLT);
        assertEquals("OK", reply("Z1,1003,1"));
        if (!DEBUG.hardwareBreakpoints()) {
            assertNotStopped(false);
            return;
        }
        assertEquals(new StopReason.HardwareBreakpoint(0x1003), runArmed(false));
        assertEquals(0x1003, cpu.regs().rip());
    }

    @Test
    void writeWatchpointStopsAfterTheWrite() {
        // mov [0x2002], al (88 04 25 disp32), nop, hlt; the watch covers 0x2000-0x2003 (one 4-byte slot)
        load(0x1000, (byte) 0x88, (byte) 0x04, (byte) 0x25, (byte) 0x02, (byte) 0x20, (byte) 0, (byte) 0, NOP, HLT);
        assertEquals("OK", reply("Z2,2000,4"));
        cpu.setRegs(new Regs(0x77, 0, 0, 0, 0, 0, 0x8000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1000, 0x2));
        if (DEBUG.watchpoints()) {
            assertEquals(new StopReason.Watchpoint(BreakpointKind.WRITE, 0x2000), runArmed(false));
            assertEquals(0x1007, cpu.regs().rip());
        } else {
            // KVM's emulator (kvm_pvm) and QEMU's SVM do not stop on data breakpoints: the write happens.
            arm(false);
            int reason = cpu.run();
            assertEquals(KvmConstants.KVM_EXIT_HLT, reason, exitDescription(reason));
            assertEquals(0x1009, cpu.regs().rip());
        }
        assertEquals(0x77, memory.get(JAVA_BYTE, 0x2002), "the write happened");
    }

    @Test
    void theGuestsOwnInt3IsHandedBackToTheGuest() {
        load(0x1000, NOP, NOP, (byte) 0xcc, NOP, HLT);
        load(0x1100, HLT);
        assertEquals("OK", reply("Z0,1004,1")); // a breakpoint elsewhere makes KVM intercept every #BP
        if (!DEBUG.softwareBreakpoints()) {
            assertNotStopped(false); // nothing is intercepted: the guest has its own #BP anyway
            return;
        }
        assertNull(runIntoInt3(), "the int3 at 0x1002 is the guest's");
        assertEquals(0x1002, cpu.regs().rip());
        if (!NATIVE) {
            return; // the emulator cannot deliver it either: the machine reports the emulation failure
        }
        GuestDebug mine = commands.guestDebug(false);
        GuestDebug inject = mine.injecting(GuestDebug.ExceptionVector.BP);
        cpu.setGuestDebug(inject.control(), inject.debugreg());
        assertEquals(KvmConstants.KVM_EXIT_HLT, cpu.run());
        assertEquals(0x1101, cpu.regs().rip(), "the guest's #BP handler ran");
        byte[] returnIp = new byte[8];
        target.readPhysical(0x8000 - 40, returnIp); // SS, RSP, RFLAGS, CS, RIP pushed
        assertEquals(0x1003, RegisterLayout.getLong(returnIp, 0, 8), "and returns after the int3");
    }

    @Test
    void fpuStateRoundTrips() {
        FpuState before = FpuState.fromKvm(cpu.fpu());
        byte[] xmm = before.xmm();
        xmm[16] = 0x5a; // xmm1, lowest byte
        // MXCSR is left alone: KVM_GET/SET_FPU do not carry it (see FpuState).
        FpuState changed = new FpuState(before.st(), 0x27f, before.fsw(), before.ftwx(), before.lastOpcode(),
                before.lastIp(), before.lastDp(), xmm, before.mxcsr());
        target.setFpu(0, changed);
        assertEquals(changed, target.fpu(0));
        byte[] g = RegisterLayout.encode(CpuRegisters.of(target, 0));
        assertEquals(0x27f, RegisterLayout.getLong(g, RegisterLayout.find("fctrl").offset(), 4));
        assertEquals(0x5a, g[RegisterLayout.find("xmm1").offset()]);
    }

    /** Guest-physical memory and the one vCPU; paging is off, so virtual = physical. */
    private final class PhysicalTarget implements DebugTarget {
        @Override
        public int cpuCount() {
            return 1;
        }

        @Override
        public Regs regs(int c) {
            return cpu.regs();
        }

        @Override
        public void setRegs(int c, Regs regs) {
            cpu.setRegs(regs);
        }

        @Override
        public Sregs sregs(int c) {
            return cpu.sregs();
        }

        @Override
        public void setSregs(int c, Sregs sregs) {
            cpu.setSregs(sregs);
        }

        @Override
        public FpuState fpu(int c) {
            return FpuState.fromKvm(cpu.fpu());
        }

        @Override
        public void setFpu(int c, FpuState fpu) {
            cpu.setFpu(fpu.toKvm());
        }

        @Override
        public int readVirtual(int c, long address, byte[] into) {
            return readPhysical(address, into);
        }

        @Override
        public int writeVirtual(int c, long address, byte[] from) {
            return writePhysical(address, from);
        }

        @Override
        public int readPhysical(long address, byte[] into) {
            int n = (int) Math.max(0, Math.min(into.length, MEMORY - address));
            MemorySegment.copy(memory, JAVA_BYTE, address, into, 0, n);
            return n;
        }

        @Override
        public int writePhysical(long address, byte[] from) {
            int n = (int) Math.max(0, Math.min(from.length, MEMORY - address));
            MemorySegment.copy(from, 0, memory, JAVA_BYTE, address, n);
            return n;
        }

        @Override
        public void setGuestDebug(int c, GuestDebug debug) {
            cpu.setGuestDebug(debug.control(), debug.debugreg());
        }

        @Override
        public void kick(int c) {
        }

        @Override
        public String monitor(String command) {
            return "";
        }

        @Override
        public void kill() {
        }
    }
}
