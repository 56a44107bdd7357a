package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.DescriptorTable;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.vmm.board.Layout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class BootEntryTest {

    /** What KVM reports for a vCPU just out of reset (the parts that matter here). */
    private static Sregs resetState() {
        Segment real = new Segment(0, 0xffff, 0, 3, true, 0, false, true, false, false, false, false);
        Segment cs = new Segment(0xffff0000L, 0xffff, 0xf000, 11, true, 0, false, true, false, false, false, false);
        Segment ldt = new Segment(0, 0xffff, 0, 2, true, 0, false, false, false, false, false, false);
        Segment tr = new Segment(0, 0xffff, 0, 11, true, 0, false, false, false, false, false, false);
        return new Sregs(cs, real, real, real, real, real, tr, ldt, new DescriptorTable(0, 0xffff),
                new DescriptorTable(0, 0xffff), 0x60000010L, 7, 0, 0, 5, 0, 0xfee00900L);
    }

    @Test
    void descriptorsBecomeTheHiddenSegmentState() {
        Segment code64 = Gdt.segment(0x10, Gdt.CODE64);
        assertEquals(new Segment(0, 0xffffffff, 0x10, 0xb, true, 0, false, true, true, true, false, false), code64);
        Segment code32 = Gdt.segment(0x10, Gdt.CODE32);
        assertEquals(new Segment(0, 0xffffffff, 0x10, 0xb, true, 0, true, true, false, true, false, false), code32);
        Segment data = Gdt.segment(0x18, Gdt.DATA);
        assertEquals(new Segment(0, 0xffffffff, 0x18, 0x3, true, 0, true, true, false, true, false, false), data);
        // Base and a byte-granular limit are taken apart correctly too.
        Segment odd = Gdt.segment(0x8, 0x12_4_0_93_345678_9abcL);
        assertEquals(0x12345678L, odd.base());
        assertEquals(0x09abc, odd.limit());
        assertFalse(odd.g());
    }

    @Test
    void appliesOntoTheVcpusSpecialRegisters() {
        BootEntry e = BootEntry.longMode("test", 0x100200, 0x7000, 0x9000, List.of());
        Sregs before = resetState();
        Sregs s = e.applyTo(before);
        assertEquals(e.codeSegment(), s.cs());
        for (Segment seg : List.of(s.ds(), s.es(), s.fs(), s.gs(), s.ss())) {
            assertEquals(e.dataSegment(), seg);
        }
        assertEquals(new DescriptorTable(0x500, 31), s.gdt());
        assertEquals(new DescriptorTable(0, 0), s.idt());
        assertEquals(11, s.tr().type());
        assertEquals(0x67, s.tr().limit());
        assertEquals(0x80000011L, s.cr0());
        assertEquals(0x9000, s.cr3());
        assertEquals(0x20, s.cr4());
        assertEquals(0x500, s.efer());
        assertEquals(before.ldt(), s.ldt());
        assertEquals(7, s.cr2());
        assertEquals(5, s.cr8());
        assertEquals(0xfee00900L, s.apicBase(), "the APIC base is the vCPU's, not the loader's");
    }

    @Test
    void regsCarryTheProtocolRegistersAndNothingElse() {
        BootEntry e = BootEntry.protected32("mb", 0x100010, 0x2BADB002L, 0x7000, 0, List.of());
        Regs r = e.regs();
        assertEquals(0x100010, r.rip());
        assertEquals(0x2BADB002L, r.rax());
        assertEquals(0x7000, r.rbx());
        assertEquals(Layout.BOOT_STACK_TOP, r.rsp());
        assertEquals(0, r.rcx() | r.rdx() | r.rsi() | r.rdi() | r.rbp() | r.r8() | r.r15());
        assertEquals(2, r.rflags());
        assertTrue(e.placements().isEmpty());
    }

    @Test
    void selectorsMustBeInsideTheGdt() {
        assertThrows(IllegalArgumentException.class, () -> new BootEntry("x", BootEntry.Mode.PROTECTED_32, 0, 0, 0, 0, 0,
                0x500, List.of(0L, 0L), 0x10, 0x18, 1, 0, 0, 0, List.of()));
    }

    @Test
    void pageTablesMapTheFirst4GibOntoItself() {
        ByteBuffer b = ByteBuffer.wrap(PageTables.identity4g(0x9000)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(6 * 4096, b.capacity());
        assertEquals(0xa003, b.getLong(0));
        assertEquals(0, b.getLong(8), "only the first 512 GiB slot");
        for (int gib = 0; gib < 4; gib++) {
            assertEquals(0xb003 + gib * 0x1000L, b.getLong(4096 + gib * 8));
        }
        for (int i = 0; i < 2048; i++) {
            assertEquals(((long) i << 21) | 0x83, b.getLong(8192 + i * 8), "2 MiB page " + i);
        }
    }
}
