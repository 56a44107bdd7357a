package dev.jkvm.vmm.monitor;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import java.util.Locale;

/** {@code info registers} in QEMU's layout ({@code x86_cpu_dump_state}), from KVM's registers. */
final class RegisterDump {

    private RegisterDump() {
    }

    static String format(Regs r, Sregs s) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "RAX=%016x RBX=%016x RCX=%016x RDX=%016x%n", r.rax(), r.rbx(), r.rcx(), r.rdx()));
        sb.append(String.format(Locale.ROOT, "RSI=%016x RDI=%016x RBP=%016x RSP=%016x%n", r.rsi(), r.rdi(), r.rbp(), r.rsp()));
        sb.append(String.format(Locale.ROOT, "R8 =%016x R9 =%016x R10=%016x R11=%016x%n", r.r8(), r.r9(), r.r10(), r.r11()));
        sb.append(String.format(Locale.ROOT, "R12=%016x R13=%016x R14=%016x R15=%016x%n", r.r12(), r.r13(), r.r14(), r.r15()));
        sb.append(String.format(Locale.ROOT, "RIP=%016x RFL=%08x [%s] CPL=%d%n", r.rip(), r.rflags(), flags(r.rflags()),
                s.cs().selector() & 3));
        segment(sb, "ES =", s.es());
        segment(sb, "CS =", s.cs());
        segment(sb, "SS =", s.ss());
        segment(sb, "DS =", s.ds());
        segment(sb, "FS =", s.fs());
        segment(sb, "GS =", s.gs());
        segment(sb, "LDT=", s.ldt());
        segment(sb, "TR =", s.tr());
        sb.append(String.format(Locale.ROOT, "GDT=     %016x %08x%n", s.gdt().base(), s.gdt().limit()));
        sb.append(String.format(Locale.ROOT, "IDT=     %016x %08x%n", s.idt().base(), s.idt().limit()));
        sb.append(String.format(Locale.ROOT, "CR0=%08x CR2=%016x CR3=%016x CR4=%08x%n", s.cr0(), s.cr2(), s.cr3(), s.cr4()));
        sb.append(String.format(Locale.ROOT, "CR8=%016x EFER=%016x APIC_BASE=%016x%n", s.cr8(), s.efer(), s.apicBase()));
        return sb.toString();
    }

    /** QEMU's flag string: ODITSZAPC positions, '-' for clear. */
    private static String flags(long f) {
        char[] c = "-------".toCharArray();
        if ((f & (1 << 11)) != 0) c[0] = 'O';
        if ((f & (1 << 10)) != 0) c[1] = 'D';
        if ((f & (1 << 7)) != 0) c[2] = 'S';
        if ((f & (1 << 6)) != 0) c[3] = 'Z';
        if ((f & (1 << 4)) != 0) c[4] = 'A';
        if ((f & (1 << 2)) != 0) c[5] = 'P';
        if ((f & 1) != 0) c[6] = 'C';
        return new String(c);
    }

    /** Selector, base, limit and the attribute word as QEMU packs it into descriptor bits 8-23. */
    private static void segment(StringBuilder sb, String name, Segment s) {
        long attr = (long) s.type() << 8 | (s.s() ? 1L << 12 : 0) | (long) s.dpl() << 13 | (s.present() ? 1L << 15 : 0)
                | (s.avl() ? 1L << 20 : 0) | (s.l() ? 1L << 21 : 0) | (s.db() ? 1L << 22 : 0) | (s.g() ? 1L << 23 : 0);
        sb.append(String.format(Locale.ROOT, "%s%04x %016x %08x %08x%n", name, s.selector(), s.base(),
                Integer.toUnsignedLong(s.limit()), attr));
    }
}
