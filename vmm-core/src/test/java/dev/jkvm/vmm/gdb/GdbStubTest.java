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
}
