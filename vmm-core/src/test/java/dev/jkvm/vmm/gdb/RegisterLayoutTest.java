package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The g packet: where each register sits, in which byte order, and that writes go back to the right field. */
class RegisterLayoutTest {

    /** Every general register a distinct value, so a swapped pair shows. */
    static final Regs REGS = new Regs(0x1111111111111101L, 0x2222222222222202L, 0x3333333333333303L,
            0x4444444444444404L, 0x5555555555555505L, 0x6666666666666606L, 0x7777777777777707L /* rsp */,
            0x8888888888888808L /* rbp */, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
            0xffffffff81000123L, 0x0000000000000246L);

    static CpuRegisters sample() {
        Sregs base = FakeTarget.longModeSregs();
        Sregs s = new Sregs(seg(base.cs(), 0x10, 0), seg(base.ds(), 0x18, 0), seg(base.es(), 0x20, 0),
                seg(base.fs(), 0x28, 0x7f0000001000L), seg(base.gs(), 0x30, 0xffff888000002000L), seg(base.ss(), 0x38, 0),
                base.tr(), base.ldt(), base.gdt(), base.idt(),
                0x80050033L, 0xdead0000L, 0x1234000L, 0x3006a0L, 0xfL, 0xd01L, 0xfee00900L);
        byte[] st = new byte[80];
        for (int i = 0; i < 80; i++) {
            st[i] = (byte) (0x40 + i);
        }
        byte[] xmm = new byte[256];
        for (int i = 0; i < 256; i++) {
            xmm[i] = (byte) i;
        }
        FpuState f = new FpuState(st, 0x37f, 0x3800 /* TOP=7 */, 0x81, 0x1d9, 0x1122334455667788L,
                0x99aabbccddeeff00L, xmm, 0x1fa0);
        return new CpuRegisters(REGS, s, f);
    }

    private static Segment seg(Segment s, int selector, long base) {
        return new Segment(base, s.limit(), selector, s.type(), s.present(), s.dpl(), s.db(), s.s(), s.l(), s.g(),
                s.avl(), s.unusable());
    }

    private static long at(byte[] g, String name) {
        RegisterLayout.Register r = RegisterLayout.find(name);
        return RegisterLayout.getLong(g, r.offset(), Math.min(8, r.bytes()));
    }

    @Test
    void orderAndOffsetsMatchGdbsAmd64Numbering() {
        List<String> names = RegisterLayout.registers().stream().map(RegisterLayout.Register::name).toList();
        assertEquals(List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"), names.subList(0, 8));
        assertEquals(16, RegisterLayout.find("rip").number());
        assertEquals(128, RegisterLayout.find("rip").offset());
        assertEquals(136, RegisterLayout.find("eflags").offset());
        assertEquals(140, RegisterLayout.find("cs").offset());
        assertEquals(160, RegisterLayout.find("gs").offset());
        assertEquals(24, RegisterLayout.find("st0").number());
        assertEquals(164, RegisterLayout.find("st0").offset());
        assertEquals(244, RegisterLayout.find("fctrl").offset());
        assertEquals(40, RegisterLayout.find("xmm0").number());
        assertEquals(276, RegisterLayout.find("xmm0").offset());
        assertEquals(56, RegisterLayout.find("mxcsr").number());
        assertEquals(532, RegisterLayout.find("mxcsr").offset());
        assertEquals(536, RegisterLayout.find("fs_base").offset());
        assertEquals(552, RegisterLayout.find("cr0").offset());
        assertEquals(592, RegisterLayout.find("efer").offset());
        assertEquals(600, RegisterLayout.G_BYTES);
    }

    @Test
    void eachRegisterIsLittleEndianAtItsOffset() {
        byte[] g = RegisterLayout.encode(sample());
        assertEquals(600, g.length);
        assertEquals(REGS.rax(), at(g, "rax"));
        assertEquals(REGS.rbx(), at(g, "rbx"));
        assertEquals(REGS.rcx(), at(g, "rcx"));
        assertEquals(REGS.rdx(), at(g, "rdx"));
        assertEquals(REGS.rsi(), at(g, "rsi"));
        assertEquals(REGS.rdi(), at(g, "rdi"));
        assertEquals(REGS.rbp(), at(g, "rbp"));
        assertEquals(REGS.rsp(), at(g, "rsp"));
        for (int i = 8; i < 16; i++) {
            assertEquals(i, at(g, "r" + i));
        }
        assertEquals(REGS.rip(), at(g, "rip"));
        // Byte order spelled out once: rip 0xffffffff81000123 starts 23 01 00 81.
        assertEquals("23010081ffffffff", Hex.bytes(g, 128, 8));
        assertEquals(0x246, at(g, "eflags"));
        assertEquals(0x10, at(g, "cs"));
        assertEquals(0x38, at(g, "ss"));
        assertEquals(0x18, at(g, "ds"));
        assertEquals(0x20, at(g, "es"));
        assertEquals(0x28, at(g, "fs"));
        assertEquals(0x30, at(g, "gs"));
        assertEquals("40414243444546474849", Hex.bytes(g, RegisterLayout.find("st0").offset(), 10));
        assertEquals("868788898a8b8c8d8e8f", Hex.bytes(g, RegisterLayout.find("st7").offset(), 10));
        assertEquals(0x37f, at(g, "fctrl"));
        assertEquals(0x3800, at(g, "fstat"));
        assertEquals(0x11223344L, at(g, "fiseg"));
        assertEquals(0x55667788L, at(g, "fioff"));
        assertEquals(0x99aabbccL, at(g, "foseg"));
        assertEquals(0xddeeff00L, at(g, "fooff"));
        assertEquals(0x1d9, at(g, "fop"));
        assertEquals("000102030405060708090a0b0c0d0e0f", Hex.bytes(g, RegisterLayout.find("xmm0").offset(), 16));
        assertEquals("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", Hex.bytes(g, RegisterLayout.find("xmm15").offset(), 16));
        assertEquals(0x1fa0, at(g, "mxcsr"));
        assertEquals(0x7f0000001000L, at(g, "fs_base"));
        assertEquals(0xffff888000002000L, at(g, "gs_base"));
        assertEquals(0x80050033L, at(g, "cr0"));
        assertEquals(0xdead0000L, at(g, "cr2"));
        assertEquals(0x1234000L, at(g, "cr3"));
        assertEquals(0x3006a0L, at(g, "cr4"));
        assertEquals(0xf, at(g, "cr8"));
        assertEquals(0xd01, at(g, "efer"));
    }

    @Test
    void fullTagWordIsRebuiltFromTheAbridgedByte() {
        // ftwx 0x81: physical registers 0 and 7 in use; TOP = 7, so R7 is ST(0) and R0 is ST(1).
        // ST(0) = bytes 0x40.. (exponent 0x4948, integer bit of 0x47 clear) -> special (2);
        // ST(1) = bytes 0x4a.. (exponent 0x5352, integer bit of 0x51 clear) -> special (2).
        int tag = sample().fpu().fullTagWord();
        assertEquals(2, tag & 3);
        assertEquals(2, tag >> 14 & 3);
        for (int p = 1; p < 7; p++) {
            assertEquals(3, tag >> (2 * p) & 3, "R" + p + " is empty");
        }
        assertEquals(0x81, FpuState.abridge(tag));
        assertEquals(0xffff, FpuState.initial().fullTagWord());
    }

    @Test
    void decodeUndoesEncode() {
        CpuRegisters c = sample();
        assertEquals(c, RegisterLayout.decode(RegisterLayout.encode(c), c));
    }

    @Test
    void writesReachTheRightField() {
        CpuRegisters c = sample();
        byte[] g = RegisterLayout.encode(c);
        RegisterLayout.putLong(g, RegisterLayout.find("rsp").offset(), 0xabcdef, 8);
        RegisterLayout.putLong(g, RegisterLayout.find("rbp").offset(), 0x123456, 8);
        RegisterLayout.putLong(g, RegisterLayout.find("eflags").offset(), 0x202, 4);
        RegisterLayout.putLong(g, RegisterLayout.find("fs_base").offset(), 0x4000, 8);
        RegisterLayout.putLong(g, RegisterLayout.find("cr3").offset(), 0x5000, 8);
        RegisterLayout.putLong(g, RegisterLayout.find("ftag").offset(), 0xfffc, 4); // R0 valid, rest empty
        CpuRegisters d = RegisterLayout.decode(g, c);
        assertEquals(0xabcdef, d.regs().rsp());
        assertEquals(0x123456, d.regs().rbp());
        assertEquals(0x202, d.regs().rflags());
        assertEquals(0x4000, d.sregs().fs().base());
        assertEquals(0x28, d.sregs().fs().selector());
        assertEquals(0x5000, d.sregs().cr3());
        assertEquals(0x01, d.fpu().ftwx());
        assertEquals(c.sregs().gs(), d.sregs().gs());
        assertEquals(c.sregs().apicBase(), d.sregs().apicBase());
    }

    @Test
    void singleRegisterReadAndWrite() {
        CpuRegisters c = sample();
        RegisterLayout.Register rip = RegisterLayout.find("rip");
        assertArrayEquals(Hex.toBytes("23010081ffffffff"), RegisterLayout.read(c, rip));
        CpuRegisters d = RegisterLayout.write(c, rip, Hex.toBytes("0010000000000000"));
        assertEquals(0x1000, d.regs().rip());
        assertEquals(c.regs().withRip(0x1000), d.regs());
        assertEquals(c.sregs(), d.sregs());
    }

    @Test
    void aSelectorWrittenInRealModeMovesTheBase() {
        CpuRegisters c = sample();
        Sregs s = c.sregs();
        Sregs real = new Sregs(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                0x10, 0, 0, 0, 0, 0, s.apicBase());
        CpuRegisters r = new CpuRegisters(c.regs(), real, c.fpu());
        CpuRegisters d = RegisterLayout.write(r, RegisterLayout.find("ds"), Hex.toBytes("00f00000"));
        assertEquals(0xf000, d.sregs().ds().selector());
        assertEquals(0xf0000, d.sregs().ds().base());
    }

    @Test
    void fpuStateRoundTripsThroughStructKvmFpu() {
        FpuState f = sample().fpu();
        byte[] raw = f.toKvm();
        assertEquals(416, raw.length);
        assertEquals(f, FpuState.fromKvm(raw));
        assertEquals(0x7f, raw[128]);      // fcw low byte at offsetof(fcw) = 128
        assertEquals((byte) 0x81, raw[132]); // ftwx
        assertEquals((byte) 0xa0, raw[408]); // mxcsr
    }
}
