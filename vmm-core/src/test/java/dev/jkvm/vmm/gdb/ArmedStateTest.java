package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.jkvm.kvm.abi.KvmConstants;
import org.junit.jupiter.api.Test;

/** Telling the debugger's #BP/#DB exits from the guest's own, and the stop replies they become. */
class ArmedStateTest {

    private static ArmedState armed() {
        HardwareBreakpoints hw = new HardwareBreakpoints();
        hw.insert(BreakpointKind.HARDWARE, 0x5000, 1);
        hw.insert(BreakpointKind.WRITE, 0x6002, 4);   // slots 1 and 2
        HardwareBreakpoints.Slot[] slots = new HardwareBreakpoints.Slot[4];
        for (int n = 0; n < 4; n++) {
            slots[n] = hw.slot(n);
        }
        GuestDebug stepping = new GuestDebug(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_SINGLESTEP, 0, 0, 0, 0, 0);
        GuestDebug plain = new GuestDebug(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_USE_SW_BP, 0, 0, 0, 0, 0);
        return new ArmedState(new long[] {0x1000, 0x1008}, slots, new GuestDebug[] {stepping, plain});
    }

    @Test
    void classifiesDebugExits() {
        ArmedState a = armed();
        assertEquals(new StopReason.SoftwareBreakpoint(0x1008), a.classify(1, 3, 0x1008, 0));
        assertNull(a.classify(1, 3, 0x1004, 0), "the guest's own int3");
        assertEquals(new StopReason.SingleStep(), a.classify(0, 1, 0x1001, 0xffff4ff0L));
        assertNull(a.classify(1, 1, 0x1001, 0x4000), "a single step nobody asked for");
        assertEquals(new StopReason.HardwareBreakpoint(0x5000), a.classify(1, 1, 0x5000, 0x1));
        assertEquals(new StopReason.Watchpoint(BreakpointKind.WRITE, 0x6002), a.classify(1, 1, 0x7777, 0x4));
        assertEquals(new StopReason.Watchpoint(BreakpointKind.WRITE, 0x6002), a.classify(1, 1, 0x7777, 0x2));
        assertNull(a.classify(1, 1, 0x7777, 0x8), "slot 3 is not the debugger's");
        assertEquals(new StopReason.Watchpoint(BreakpointKind.WRITE, 0x6002), a.classify(0, 1, 0x7777, 0x4004),
                "a step that wrote a watched location reports the watchpoint");
        assertNull(a.classify(1, 6, 0x7777, 0), "neither #DB nor #BP");
        assertNull(ArmedState.none(2).classify(0, 3, 0x1000, 0));
    }

    @Test
    void stopRepliesCarryThreadAndReason() {
        assertEquals("T05thread:01;swbreak:;", new StopEvent(0, new StopReason.SoftwareBreakpoint(0x1000)).reply(true, true));
        assertEquals("T05thread:01;", new StopEvent(0, new StopReason.SoftwareBreakpoint(0x1000)).reply(false, false));
        assertEquals("T05thread:02;hwbreak:;", new StopEvent(1, new StopReason.HardwareBreakpoint(0x5000)).reply(true, true));
        assertEquals("T05thread:02;watch:6002;", new StopEvent(1, new StopReason.Watchpoint(BreakpointKind.WRITE, 0x6002)).reply(true, true));
        assertEquals("T05thread:03;rwatch:10;", new StopEvent(2, new StopReason.Watchpoint(BreakpointKind.READ, 0x10)).reply(true, true));
        assertEquals("T05thread:03;awatch:10;", new StopEvent(2, new StopReason.Watchpoint(BreakpointKind.ACCESS, 0x10)).reply(true, true));
        assertEquals("T05thread:01;", new StopEvent(0, new StopReason.SingleStep()).reply(true, true));
        assertEquals("T02thread:01;", new StopEvent(0, new StopReason.Interrupted()).reply(true, true));
        assertEquals("T05thread:10;", new StopEvent(15, new StopReason.Paused()).reply(true, true));
    }

    @Test
    void injectingAddsTheRightFlag() {
        GuestDebug g = new GuestDebug(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_USE_SW_BP, 1, 2, 3, 4, 0x600);
        assertEquals(g.control() | KvmConstants.KVM_GUESTDBG_INJECT_BP, g.injecting(3).control());
        assertEquals(g.control() | KvmConstants.KVM_GUESTDBG_INJECT_DB, g.injecting(1).control());
        assertEquals(0x600, g.injecting(1).dr7());
        assertEquals(8, g.debugreg().length);
        assertEquals(0x600, g.debugreg()[7]);
    }
}
