package dev.jkvm.vmm.monitor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * {@code info lapic} in the layout of QEMU's {@code x86_cpu_dump_local_apic_state}, from the
 * in-kernel local APIC's register page ({@code KVM_GET_LAPIC}, where KVM also fills in the timer's
 * current count) and the TSC-deadline MSR: what a stalled guest waits for (a vector in IRR that is
 * never taken, one in ISR never acknowledged, a timer that is masked or never armed).
 */
final class LapicDump {

    /** IA32_TSC_DEADLINE and IA32_TSC: the timer's deadline in TSC-deadline mode and the TSC now. */
    static final int[] MSRS = {0x6e0, 0x10};

    private static final String[] DELIVERY = {"Fixed", "LowPri", "SMI", "...", "NMI", "INIT", "...", "ExtINT"};
    private static final String[] TIMER_MODE = {"one-shot", "periodic", "tsc-deadline", "reserved"};

    private LapicDump() {
    }

    /**
     * @param regs the 1024 bytes of {@code struct kvm_lapic_state}
     * @param msrs the values of {@link #MSRS} (fewer when KVM could not read them)
     */
    static String format(int cpu, byte[] regs, long[] msrs) {
        ByteBuffer b = ByteBuffer.wrap(regs).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "dumping local APIC state for CPU %d%n%n", cpu));
        lvt(sb, "LVT0", b.getInt(0x350), false);
        lvt(sb, "LVT1", b.getInt(0x360), false);
        lvt(sb, "LVTPC", b.getInt(0x340), false);
        lvt(sb, "LVTERR", b.getInt(0x370), false);
        lvt(sb, "LVTTHMR", b.getInt(0x330), false);
        lvt(sb, "LVTT", b.getInt(0x320), true);
        int dcr = b.getInt(0x3e0);
        int shift = ((dcr & 3) | ((dcr >> 1) & 4)) + 1 & 7; // 0b1011 is divide by 1
        sb.append(String.format(Locale.ROOT, "Timer\t DCR=0x%x (divide by %d) initial_count = %d current_count = %d%n", dcr,
                1 << shift, Integer.toUnsignedLong(b.getInt(0x380)), Integer.toUnsignedLong(b.getInt(0x390))));
        if (msrs.length == 2) {
            long deadline = msrs[0];
            long tsc = msrs[1];
            sb.append(String.format(Locale.ROOT, "TSC\t deadline=0x%x now=0x%x%s%n", deadline, tsc,
                    deadline == 0 ? " (disarmed)" : Long.compareUnsigned(deadline, tsc) <= 0 ? " (passed)" : " (ahead by "
                            + Long.toUnsignedString(deadline - tsc) + " cycles)"));
        }
        int svr = b.getInt(0xf0);
        sb.append(String.format(Locale.ROOT, "SPIV\t 0x%08x APIC %s, focus=%s, spurious vec %d%n", svr,
                (svr & 0x100) != 0 ? "enabled" : "disabled", (svr & 0x200) != 0 ? "off" : "on", svr & 0xff));
        int icr = b.getInt(0x300);
        int icr2 = b.getInt(0x310);
        sb.append(String.format(Locale.ROOT, "ICR\t 0x%08x %s %s %s %s%n", icr, (icr & 0x800) != 0 ? "logical" : "physical",
                (icr & 0x8000) != 0 ? "level" : "edge", (icr & 0x4000) != 0 ? "assert" : "de-assert",
                switch ((icr >> 18) & 3) {
                    case 1 -> "self";
                    case 2 -> "all-self";
                    case 3 -> "all";
                    default -> "no-shorthand";
                }));
        sb.append(String.format(Locale.ROOT, "ICR2\t 0x%08x cpu %d%n", icr2, icr2 >>> 24));
        sb.append(String.format(Locale.ROOT, "ESR\t 0x%08x%n", b.getInt(0x280)));
        sb.append("ISR\t ").append(vectors(b, 0x100)).append('\n');
        sb.append("IRR\t ").append(vectors(b, 0x200)).append('\n');
        sb.append("TMR\t ").append(vectors(b, 0x180)).append('\n');
        sb.append(String.format(Locale.ROOT, "%nAPR 0x%02x TPR 0x%02x DFR 0x%02x LDR 0x%02x PPR 0x%02x ID 0x%02x%n",
                b.getInt(0x90) & 0xff, b.getInt(0x80) & 0xff, b.getInt(0xe0) >>> 28, b.getInt(0xd0) >>> 24,
                b.getInt(0xa0) & 0xff, b.getInt(0x20) >>> 24));
        return sb.toString();
    }

    private static void lvt(StringBuilder sb, String name, int v, boolean timer) {
        sb.append(String.format(Locale.ROOT, "%s\t 0x%08x %s %s %s %s %s", name, v, (v & 0x2000) != 0 ? "active-lo" : "active-hi",
                (v & 0x8000) != 0 ? "level" : "edge ", (v & 0x10000) != 0 ? "masked" : "      ",
                (v & 0x1000) != 0 ? "pending" : "       ", timer ? TIMER_MODE[(v >> 17) & 3] : ""));
        if (timer) {
            sb.append(String.format(Locale.ROOT, " Fixed  (vec %d)%n", v & 0xff));
        } else {
            String mode = DELIVERY[(v >> 8) & 7];
            sb.append(' ').append(mode);
            sb.append(mode.equals("Fixed") ? String.format(Locale.ROOT, "  (vec %d)", v & 0xff) : "").append('\n');
        }
    }

    /** The vectors set in the eight 32-bit registers from {@code base} (stride 16), or "(none)". */
    private static String vectors(ByteBuffer b, int base) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            int word = b.getInt(base + 16 * i);
            for (int bit = 0; bit < 32; bit++) {
                if ((word & (1 << bit)) != 0) {
                    sb.append(sb.isEmpty() ? "" : " ").append(i * 32 + bit);
                }
            }
        }
        return sb.isEmpty() ? "(none)" : sb.toString();
    }
}
