package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.KvmConstants;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The vCPU-facing entry points: which exits the debugger takes, and what happens to the others. */
class GdbStubTest {

    private final FakeTarget target = new FakeTarget(2);
    private final GdbStub stub = new GdbStub(target, false, line -> { });

    private void armBreakpointAt(long address) {
        GuestDebug debug = new GuestDebug(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_USE_SW_BP, 0, 0, 0, 0, 0);
        stub.arm(new ArmedState(new long[] {address}, new HardwareBreakpoints.Slot[4], new GuestDebug[] {debug, debug}));
    }

    @Test
    void theDebuggersInt3StopsTheMachine() {
        armBreakpointAt(0x1000);
        assertTrue(stub.debugExit(1, 3, 0x1000, 0));
        assertEquals(List.of(new SessionInput.Stopped(new StopEvent(1, new StopReason.SoftwareBreakpoint(0x1000)))),
                List.copyOf(stub.inputs()));
        assertTrue(target.debugHistory.isEmpty(), "nothing injected");
    }

    @Test
    void theGuestsOwnExceptionsAreInjectedBack() {
        armBreakpointAt(0x1000);
        assertFalse(stub.debugExit(0, 3, 0x2000, 0));
        assertFalse(stub.debugExit(0, 1, 0x2000, 0x4000));
        assertTrue(stub.inputs().isEmpty());
        assertEquals(2, target.debugHistory.size());
        assertTrue((target.debugHistory.get(0).control() & KvmConstants.KVM_GUESTDBG_INJECT_BP) != 0);
        assertTrue((target.debugHistory.get(1).control() & KvmConstants.KVM_GUESTDBG_INJECT_DB) != 0);
        assertTrue((target.debugHistory.get(0).control() & KvmConstants.KVM_GUESTDBG_USE_SW_BP) != 0, "the breakpoints stay armed");
    }

    @Test
    void withoutADebuggerNothingIsTakenOrInjected() {
        assertFalse(stub.debugExit(0, 3, 0x1000, 0));
        assertFalse(stub.emulationFailure(0, 0x1000));
        assertTrue(stub.inputs().isEmpty());
        assertTrue(target.debugHistory.isEmpty());
    }

    @Test
    void anEmulationFailureOnTheDebuggersInt3IsThatBreakpoint() {
        armBreakpointAt(0xffff800000001000L);
        assertTrue(stub.emulationFailure(0, 0xffff800000001000L));
        assertEquals(List.of(new SessionInput.Stopped(new StopEvent(0, new StopReason.SoftwareBreakpoint(0xffff800000001000L)))),
                List.copyOf(stub.inputs()));
        assertFalse(stub.emulationFailure(0, 0xffff800000001001L), "elsewhere it is a real failure");
    }
    /** A write watch on 8 bytes at {@code address}, emulated by stepping: what the session arms on kvm_pvm. */
    private void armEmulatedWatch(BreakpointKind kind, long address, boolean gdbStepsCpu0) {
        HardwareBreakpoints hw = new HardwareBreakpoints();
        assertTrue(hw.insert(kind, address, 8));
        HardwareBreakpoints.Slot[] slots = new HardwareBreakpoints.Slot[4];
        for (int n = 0; n < 4; n++) {
            slots[n] = hw.slot(n);
        }
        GuestDebug step = new GuestDebug(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_SINGLESTEP, 0, 0, 0, 0, 0);
        stub.arm(new ArmedState(new long[0], slots, new GuestDebug[] {step, step}, WatchEmulation.snapshot(slots, target),
                new boolean[] {gdbStepsCpu0, false}));
    }

    private static final long STEP_DR6 = 0x4000;

    @Test
    void anEmulatedWatchpointStopsTheFirstVcpuThatSeesTheWriteAndOnlyThatOne() {
        long va = FakeTarget.VIRTUAL_BASE + 0x3000;
        armEmulatedWatch(BreakpointKind.WRITE, va, false);
        assertTrue(stub.debugExit(0, 1, 0x1000, STEP_DR6), "the stub's own step is taken...");
        assertTrue(stub.inputs().isEmpty(), "...and the guest simply goes on");
        assertTrue(target.debugHistory.isEmpty(), "no #DB is injected for the stub's steps");
        target.memory[0x3004] = 7; // a vCPU's instruction wrote the watched quadword
        assertTrue(stub.debugExit(1, 1, 0x1002, STEP_DR6));
        assertEquals(List.of(new SessionInput.Stopped(new StopEvent(1, new StopReason.Watchpoint(BreakpointKind.WRITE, va)))),
                List.copyOf(stub.inputs()));
        stub.inputs().clear();
        assertTrue(stub.debugExit(0, 1, 0x1003, STEP_DR6));
        assertTrue(stub.inputs().isEmpty(), "the same change is reported once");
    }

    @Test
    void aStepTheDebuggerAskedForIsStillASingleStepUnderAnEmulatedWatch() {
        armEmulatedWatch(BreakpointKind.ACCESS, FakeTarget.VIRTUAL_BASE + 0x3000, true);
        assertTrue(stub.debugExit(0, 1, 0x1000, STEP_DR6));
        assertEquals(List.of(new SessionInput.Stopped(new StopEvent(0, new StopReason.SingleStep()))), List.copyOf(stub.inputs()));
    }

    @Test
    void anExecutionBreakpointThatComesWithTheStubsStepStillStops() {
        HardwareBreakpoints hw = new HardwareBreakpoints();
        assertTrue(hw.insert(BreakpointKind.HARDWARE, 0x1005, 1));
        assertTrue(hw.insert(BreakpointKind.WRITE, FakeTarget.VIRTUAL_BASE + 0x3000, 8));
        HardwareBreakpoints.Slot[] slots = {hw.slot(0), hw.slot(1), hw.slot(2), hw.slot(3)};
        GuestDebug step = new GuestDebug(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_SINGLESTEP, 0, 0, 0, 0, 0);
        stub.arm(new ArmedState(new long[0], slots, new GuestDebug[] {step, step}, WatchEmulation.snapshot(slots, target),
                new boolean[] {false, false}));
        assertTrue(stub.debugExit(0, 1, 0x1005, STEP_DR6 | 0x1));
        assertEquals(List.of(new SessionInput.Stopped(new StopEvent(0, new StopReason.HardwareBreakpoint(0x1005)))),
                List.copyOf(stub.inputs()));
    }

    @Test
    void readWatchesAreNotEmulated() {
        HardwareBreakpoints hw = new HardwareBreakpoints();
        assertTrue(hw.insert(BreakpointKind.READ, FakeTarget.VIRTUAL_BASE + 0x3000, 8));
        HardwareBreakpoints.Slot[] slots = {hw.slot(0), null, null, null};
        assertEquals(null, WatchEmulation.snapshot(slots, target));
    }

    @Test
    void theGuestsOwnInt3StillGoesBackToItUnderAnEmulatedWatch() {
        armEmulatedWatch(BreakpointKind.WRITE, FakeTarget.VIRTUAL_BASE + 0x3000, false);
        assertFalse(stub.debugExit(0, 3, 0x2000, 0));
        assertTrue((target.debugHistory.get(0).control() & KvmConstants.KVM_GUESTDBG_INJECT_BP) != 0);
    }
}
