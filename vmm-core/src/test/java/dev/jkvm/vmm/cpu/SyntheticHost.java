package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Supported-CPUID lists for tests, shaped like KVM_GET_SUPPORTED_CPUID: an Intel host that
 * supports every feature bit, from which single bits can be taken away.
 */
final class SyntheticHost {

    static final String BRAND = "Intel(R) Xeon(R) Synthetic CPU @ 2.00GHz";

    private SyntheticHost() {
    }

    /** An Intel host offering every feature bit; XSAVE layout of a Skylake server; 39/48 address bits. */
    static List<CpuidEntry> intel() {
        List<CpuidEntry> e = new ArrayList<>();
        int[] vendor = CpuidBuilder.words("GenuineIntel");
        e.add(new CpuidEntry(0, 0, 0, 0x1f, vendor[0], vendor[2], vendor[1]));
        e.add(new CpuidEntry(1, 0, 0, 0x00050654, 0x00000800, ~(1 << 27), 0xffffffff));
        e.add(new CpuidEntry(6, 0, 0, 0x4, 0, 0, 0));
        e.add(new CpuidEntry(7, 0, 1, 1, -1, -1, -1));
        e.add(new CpuidEntry(7, 1, 1, -1, 0, 0, 0));
        e.add(new CpuidEntry(0xa, 0, 0, 0x07300802, 0, 0, 0x603));
        e.add(new CpuidEntry(0xd, 0, 1, 0x2ff, 0xa88, 0xa88, 0));
        e.add(new CpuidEntry(0xd, 1, 1, 0xf, 0, 0, 0));
        e.add(new CpuidEntry(0xd, 2, 1, 256, 576, 0, 0));
        e.add(new CpuidEntry(0xd, 3, 1, 64, 960, 0, 0));
        e.add(new CpuidEntry(0xd, 4, 1, 64, 1024, 0, 0));
        e.add(new CpuidEntry(0xd, 5, 1, 64, 1088, 0, 0));
        e.add(new CpuidEntry(0xd, 6, 1, 512, 1152, 0, 0));
        e.add(new CpuidEntry(0xd, 7, 1, 1024, 1664, 0, 0));
        e.add(new CpuidEntry(0xd, 9, 1, 8, 2688, 0, 0));
        int[] kvm = CpuidBuilder.words("KVMKVMKVM\0\0\0");
        e.add(new CpuidEntry(0x40000000, 0, 0, 0x40000001, kvm[0], kvm[1], kvm[2]));
        e.add(new CpuidEntry(0x40000001, 0, 0, 0x01007fff, 0, 0, 0));
        e.add(new CpuidEntry(0x80000000, 0, 0, 0x80000008, 0, 0, 0));
        e.add(new CpuidEntry(0x80000001, 0, 0, 0, 0, -1, -1));
        int[] brand = CpuidBuilder.words(BRAND + "\0".repeat(48 - BRAND.length()));
        for (int i = 0; i < 3; i++) {
            e.add(new CpuidEntry(0x80000002 + i, 0, 0, brand[4 * i], brand[4 * i + 1], brand[4 * i + 2],
                    brand[4 * i + 3]));
        }
        e.add(new CpuidEntry(0x80000007, 0, 0, 0, -1, 0, -1));
        e.add(new CpuidEntry(0x80000008, 0, 0, 0x3027, -1, 0, 0));
        e.add(new CpuidEntry(0x8000000a, 0, 0, 1, 0x10, 0, -1));
        return e;
    }

    /** {@code entries} with bit {@code bit} of {@code register} cleared in leaf {@code leaf}.{@code subleaf}. */
    static List<CpuidEntry> without(List<CpuidEntry> entries, int leaf, int subleaf, Register register, int bit) {
        List<CpuidEntry> out = new ArrayList<>();
        for (CpuidEntry e : entries) {
            if (e.function() == leaf && e.index() == subleaf) {
                int m = ~(1 << bit);
                e = switch (register) {
                    case EAX -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax() & m, e.ebx(), e.ecx(), e.edx());
                    case EBX -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx() & m, e.ecx(), e.edx());
                    case ECX -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx() & m, e.edx());
                    case EDX -> new CpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(), e.ecx(), e.edx() & m);
                };
            }
            out.add(e);
        }
        return out;
    }
}
