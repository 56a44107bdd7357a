package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.KvmConstants;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Packets of a stopped target, answered against a fake machine. */
class CommandHandlerTest {

    private static final long V = FakeTarget.VIRTUAL_BASE;

    private final FakeTarget target = new FakeTarget(2);
    private final CommandHandler h = new CommandHandler(target);

    CommandHandlerTest() {
        target.load(0x1000, (byte) 0x90, (byte) 0x90, (byte) 0xf4, (byte) 0x00);
    }

    private String reply(String packet) {
        Outcome o = h.handle(packet);
        Outcome.Reply r = assertInstanceOf(Outcome.Reply.class, o, packet);
        assertEquals(1, r.packets().size());
        return r.packets().getFirst();
    }

    private static String hexAddress(long a) {
        return Long.toHexString(a);
    }

    @Test
    void supportedFeaturesAndUnknownPackets() {
        assertEquals("PacketSize=4000;qXfer:features:read+;vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+",
                reply("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+"));
        assertTrue(h.swbreakFeature && h.hwbreakFeature);
        assertEquals("", reply("vMustReplyEmpty"));
        assertEquals("", reply("qTStatus"));
        assertEquals("", reply("!"));
        assertEquals("", reply("bc"));
        assertEquals("vCont;c;C;s;S;t", reply("vCont?"));
        assertInstanceOf(Outcome.StartNoAck.class, h.handle("QStartNoAckMode"));
        assertEquals("E01", reply("mzz,4"), "malformed packets get an error, not an exception");
        assertEquals("E01", reply("Z0"));
    }

    @Test
    void targetXmlIsServedInChunks() {
        String xml = TargetDescription.xml();
        String first = reply("qXfer:features:read:target.xml:0,100");
        assertEquals('m', first.charAt(0));
        assertEquals(xml.substring(0, 0x100), first.substring(1));
        StringBuilder all = new StringBuilder();
        int offset = 0;
        while (true) {
            String part = reply("qXfer:features:read:target.xml:" + Integer.toHexString(offset) + ",7ff");
            all.append(new String(Framing.unescape(part.substring(1)), StandardCharsets.ISO_8859_1));
            offset += Framing.unescape(part.substring(1)).length;
            if (part.charAt(0) == 'l') {
                break;
            }
        }
        assertEquals(xml, all.toString());
        assertEquals("E00", reply("qXfer:features:read:other.xml:0,100"));
    }

    @Test
    void registersOfTheSelectedThread() {
        String g = reply("g");
        assertEquals(2 * RegisterLayout.G_BYTES, g.length());
        assertEquals(Hex.bytes(RegisterLayout.read(CpuRegisters.of(target, 0), RegisterLayout.find("rip"))), reply("p10"));
        assertEquals("001000000080ffff", reply("p10"));
        assertEquals("OK", reply("P10=081000000080ffff"));
        assertEquals(V + 0x1008, target.regs(0).rip());
        assertEquals(V + 0x1000, target.regs(1).rip());
        assertEquals("OK", reply("Hg2"));
        assertEquals("001000000080ffff", reply("p10"));
        assertEquals("OK", reply("P10=041000000080ffff"));
        assertEquals(V + 0x1004, target.regs(1).rip());
        assertEquals("OK", reply("Hg0"), "any thread keeps the selection");
        assertEquals(1, h.generalCpu);
        assertEquals("E22", reply("p99"));
        assertEquals("E22", reply("P10=00"));
        assertEquals("E22", reply("Hg3"));
        // G writes every register back.
        assertEquals("OK", reply("Hgp1.1"));
        byte[] all = Hex.toBytes(reply("g"));
        RegisterLayout.putLong(all, RegisterLayout.find("rax").offset(), 0x1234, 8);
        RegisterLayout.putLong(all, RegisterLayout.find("cr2").offset(), 0x5678, 8);
        assertEquals("OK", reply("G" + Hex.bytes(all)));
        assertEquals(0x1234, target.regs(0).rax());
        assertEquals(0x5678, target.sregs(0).cr2());
    }

    @Test
    void memoryReadWriteAndBinaryWrite() {
        assertEquals("9090f400", reply("m" + hexAddress(V + 0x1000) + ",4"));
        assertEquals("E14", reply("m10,4"), "unmapped");
        assertEquals("00", reply("m" + hexAddress(V + FakeTarget.MEMORY_SIZE - 1) + ",10"), "a partial read");
        assertEquals("OK", reply("M" + hexAddress(V + 0x2000) + ",3:aabbcc"));
        assertEquals((byte) 0xbb, target.physicalByte(0x2001));
        assertEquals("E22", reply("M" + hexAddress(V + 0x2000) + ",4:aabbcc"));
        // X: binary with escapes; '#' (0x23) arrives as "}\x03".
        assertEquals("OK", reply("X" + hexAddress(V + 0x3000) + ",3:a}\u0003b"));
        assertEquals("612362", reply("m" + hexAddress(V + 0x3000) + ",3"));
        assertEquals("OK", reply("X" + hexAddress(V + 0x3000) + ",0:"));
    }

    @Test
    void physicalMemoryMode() {
        assertEquals("0", reply("qqemu.PhysMemMode"));
        assertEquals("OK", reply("Qqemu.PhysMemMode:1"));
        assertEquals("1", reply("qqemu.PhysMemMode"));
        assertEquals("9090f400", reply("m1000,4"));
        assertEquals("OK", reply("Z0,1002,1"));
        assertEquals((byte) 0xCC, target.physicalByte(0x1002));
        assertEquals("9090f400", reply("m1000,4"));
        assertEquals("OK", reply("Qqemu.PhysMemMode:0"));
        assertEquals("9090cc00", reply("m" + hexAddress(V + 0x1000) + ",4"), "a physical breakpoint seen through a virtual read");
        assertEquals("E22", reply("Qqemu.PhysMemMode:2"));
    }

    @Test
    void softwareBreakpointsAreHiddenFromReads() {
        assertEquals("OK", reply("Z0," + hexAddress(V + 0x1001) + ",1"));
        assertEquals((byte) 0xCC, target.physicalByte(0x1001));
        assertEquals("9090f400", reply("m" + hexAddress(V + 0x1000) + ",4"));
        assertEquals("OK", reply("z0," + hexAddress(V + 0x1001) + ",1"));
        assertEquals((byte) 0x90, target.physicalByte(0x1001));
        assertEquals("E14", reply("Z0,10,1"));
        GuestDebug off = h.guestDebug(false);
        assertEquals(GuestDebug.OFF, off);
    }

    @Test
    void hardwareBreakpointsAndWatchpointsMakeGuestDebug() {
        assertEquals("OK", reply("Z1," + hexAddress(V + 0x1000) + ",1"));
        assertEquals("OK", reply("Z2,2000,4"));
        assertEquals("OK", reply("Z3,3000,8"));
        assertEquals("OK", reply("Z4,4000,1"));
        assertEquals("E28", reply("Z4,5000,1"), "four slots only");
        GuestDebug d = h.guestDebug(true);
        assertEquals(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_USE_HW_BP | KvmConstants.KVM_GUESTDBG_SINGLESTEP,
                d.control());
        assertEquals(V + 0x1000, d.dr0());
        assertEquals(0x2000, d.dr1());
        assertEquals(0x3000, d.dr2());
        assertEquals(0x4000, d.dr3());
        assertEquals(0x600 | 0xaa | 0x0000_0000L | 0x00d0_0000L | 0x0b00_0000L | 0x3000_0000L, d.dr7());
        assertEquals("OK", reply("z2,2000,4"));
        assertEquals("OK", reply("z1," + hexAddress(V + 0x1000) + ",1"));
        assertEquals("OK", reply("z3,3000,8"));
        assertEquals("OK", reply("z4,4000,1"));
        assertEquals(KvmConstants.KVM_GUESTDBG_ENABLE | KvmConstants.KVM_GUESTDBG_SINGLESTEP, h.guestDebug(true).control());
        assertEquals(GuestDebug.OFF, h.guestDebug(false));
    }

    @Test
    void threadsAndTheirNames() {
        assertEquals("m01,02", reply("qfThreadInfo"));
        assertEquals("l", reply("qsThreadInfo"));
        assertEquals("QC01", reply("qC"));
        assertEquals(Hex.text("CPU 1"), reply("qThreadExtraInfo,2"));
        assertEquals("OK", reply("T2"));
        assertEquals("OK", reply("Tp1.1"));
        assertEquals("E22", reply("T3"));
        assertEquals("1", reply("qAttached"));
        assertEquals("1", reply("qAttached:1"));
        assertEquals("T05thread:01;", reply("?"));
    }

    @Test
    void continueAndStepResumeTheRightVcpus() {
        Outcome.Resume c = assertInstanceOf(Outcome.Resume.class, h.handle("c"));
        assertEquals(bits(0, 1), c.running());
        assertEquals(bits(), c.stepping());
        assertEquals("OK", reply("Hc2"));
        Outcome.Resume s = assertInstanceOf(Outcome.Resume.class, h.handle("s"));
        assertEquals(bits(0, 1), s.running());
        assertEquals(bits(1), s.stepping());
        Outcome.Resume at = assertInstanceOf(Outcome.Resume.class, h.handle("c" + hexAddress(V + 0x1002)));
        assertEquals(V + 0x1002, target.regs(1).rip());
        assertEquals(bits(0, 1), at.running());
        assertInstanceOf(Outcome.Resume.class, h.handle("C05"));
    }

    @Test
    void vContActionsApplyFirstMatchFirst() {
        Outcome.Resume a = assertInstanceOf(Outcome.Resume.class, h.handle("vCont;s:1;c"));
        assertEquals(bits(0, 1), a.running());
        assertEquals(bits(0), a.stepping());
        Outcome.Resume b = assertInstanceOf(Outcome.Resume.class, h.handle("vCont;s:p1.2"));
        assertEquals(bits(1), b.running());
        assertEquals(bits(1), b.stepping());
        Outcome.Resume c = assertInstanceOf(Outcome.Resume.class, h.handle("vCont;c"));
        assertEquals(bits(0, 1), c.running());
        Outcome.Resume d = assertInstanceOf(Outcome.Resume.class, h.handle("vCont;t:1;C05"));
        assertEquals(bits(1), d.running());
        Outcome.Resume e = assertInstanceOf(Outcome.Resume.class, h.handle("vCont;S05:2;c:-1"));
        assertEquals(bits(1), e.stepping());
        assertEquals(bits(0, 1), e.running());
        assertEquals("OK", reply("vCont;t"));
        assertEquals("E22", reply("vCont;c:9"));
        assertEquals("", reply("vCont;r1000,2000"));
    }

    @Test
    void monitorCommandsGoToTheMachineAndComeBackAsOutputPackets() {
        Outcome.Reply r = assertInstanceOf(Outcome.Reply.class, h.handle("qRcmd," + Hex.text("info version")));
        assertEquals(List.of("O" + Hex.text("jkvm fake\n"), "OK"), r.packets());
        assertEquals(List.of("info version"), target.monitorCommands);
        Outcome.Reply quiet = assertInstanceOf(Outcome.Reply.class, h.handle("qRcmd," + Hex.text("stop")));
        assertEquals(List.of("OK"), quiet.packets());
    }

    @Test
    void detachAndKill() {
        assertInstanceOf(Outcome.Detach.class, h.handle("D"));
        assertInstanceOf(Outcome.Detach.class, h.handle("D;1"));
        assertInstanceOf(Outcome.Kill.class, h.handle("k"));
    }

    private static BitSet bits(int... set) {
        BitSet b = new BitSet();
        for (int i : set) {
            b.set(i);
        }
        return b;
    }
}
