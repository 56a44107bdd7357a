package dev.jkvm.vmm.boot;

import dev.jkvm.kvm.DescriptorTable;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.vmm.board.Layout;
import java.util.List;

/**
 * The vCPU state a loaded kernel expects at its first instruction, and what the loader put where
 * in guest memory. The GDT it names has already been written to memory by the loader.
 *
 * <pre>{@code
 * BootEntry entry = KernelLoader.load(request, memory, e820);
 * vcpu.setSregs(entry.applyTo(vcpu.sregs()));
 * vcpu.setRegs(entry.regs());
 * }</pre>
 *
 * @param format what was booted ({@code Multiboot}, {@code Linux bzImage}, {@code PVH ELF})
 * @param mode 32-bit protected mode with paging off, or 64-bit long mode
 * @param rip the entry point (a physical address: paging is off or identity)
 * @param rsp the initial stack pointer
 * @param rax EAX at entry (the Multiboot magic), else 0
 * @param rbx EBX at entry (the Multiboot info or PVH start_info address), else 0
 * @param rsi RSI at entry (the Linux zero page), else 0
 * @param gdtBase where the GDT is in guest memory
 * @param gdt its descriptors, as written there
 * @param codeSelector CS
 * @param dataSelector DS, ES, FS, GS, SS
 * @param cr0 CR0
 * @param cr3 CR3 (the PML4 in long mode, else 0)
 * @param cr4 CR4
 * @param efer the EFER MSR
 * @param placements every range the loader wrote, in the order it placed them
 */
public record BootEntry(String format, Mode mode, long rip, long rsp, long rax, long rbx, long rsi,
                        long gdtBase, List<Long> gdt, int codeSelector, int dataSelector,
                        long cr0, long cr3, long cr4, long efer, List<Placement> placements) {

    /** CR0.PE: protected mode. */
    public static final long CR0_PE = 1L;
    /** CR0.ET: always one on anything newer than a 386. */
    public static final long CR0_ET = 1L << 4;
    /** CR0.PG: paging. */
    public static final long CR0_PG = 1L << 31;
    /** CR4.PAE: needed for long mode. */
    public static final long CR4_PAE = 1L << 5;
    /** EFER.LME and EFER.LMA: long mode enabled and active. */
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;
    /** RFLAGS with only the always-one bit 1: interrupts off. */
    public static final long RFLAGS = 0x2;

    /** The processor mode at entry. */
    public enum Mode {
        /** 32-bit protected mode, flat 4 GiB segments, paging off. */
        PROTECTED_32,
        /** 64-bit long mode, identity-mapped page tables at {@code cr3}. */
        LONG_64
    }

    /**
     * One range of guest memory a loader filled.
     *
     * @param what what it holds ({@code kernel}, {@code initrd}, {@code zero page}, ...)
     * @param base its first address
     * @param size its length in bytes
     */
    public record Placement(String what, long base, long size) {
        /** The first address past it. */
        public long end() {
            return base + size;
        }

        /** Whether it shares a byte with {@code [otherBase, otherBase + otherSize)}. */
        public boolean overlaps(long otherBase, long otherSize) {
            return otherBase < base + size && base < otherBase + otherSize;
        }

        @Override
        public String toString() {
            return String.format("%s 0x%x-0x%x", what, base, end() - 1);
        }
    }

    public BootEntry {
        gdt = List.copyOf(gdt);
        placements = List.copyOf(placements);
        if ((codeSelector >> 3) >= gdt.size() || (dataSelector >> 3) >= gdt.size()) {
            throw new IllegalArgumentException("selectors outside the GDT");
        }
    }

    /** 32-bit protected mode, paging off, flat segments from the standard GDT at {@link Layout#BOOT_GDT}. */
    static BootEntry protected32(String format, long rip, long rax, long rbx, long rsi, List<Placement> placements) {
        return new BootEntry(format, Mode.PROTECTED_32, rip, Layout.BOOT_STACK_TOP, rax, rbx, rsi,
                Layout.BOOT_GDT, Gdt.flat(false), Gdt.CODE_SELECTOR, Gdt.DATA_SELECTOR,
                CR0_PE | CR0_ET, 0, 0, 0, placements);
    }

    /** 64-bit long mode with the page tables at {@code pml4}. */
    static BootEntry longMode(String format, long rip, long rsi, long pml4, List<Placement> placements) {
        return new BootEntry(format, Mode.LONG_64, rip, Layout.BOOT_STACK_TOP, 0, 0, rsi,
                Layout.BOOT_GDT, Gdt.flat(true), Gdt.CODE_SELECTOR, Gdt.DATA_SELECTOR,
                CR0_PE | CR0_ET | CR0_PG, pml4, CR4_PAE, EFER_LME | EFER_LMA, placements);
    }

    /** The GDTR: base and limit (size - 1). */
    public DescriptorTable gdtr() {
        return new DescriptorTable(gdtBase, gdt.size() * 8 - 1);
    }

    /** The general registers at entry; everything not named here is zero, RFLAGS has IF clear. */
    public Regs regs() {
        return new Regs(rax, rbx, 0, 0, rsi, 0, rsp, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, RFLAGS);
    }

    /** CS as the vCPU holds it after loading {@link #codeSelector()} from this GDT. */
    public Segment codeSegment() {
        return Gdt.segment(codeSelector, gdt.get(codeSelector >> 3));
    }

    /** DS/ES/FS/GS/SS as the vCPU holds them after loading {@link #dataSelector()}. */
    public Segment dataSegment() {
        return Gdt.segment(dataSelector, gdt.get(dataSelector >> 3));
    }

    /**
     * {@code current} (the vCPU's special registers, as read back from KVM) with everything the
     * entry state defines replaced: segments, TR (a busy TSS at 0, limit 0x67, as PVH specifies and
     * VMX requires), GDTR, an empty IDTR (any exception before the kernel installs its own becomes a
     * triple fault, i.e. a clear crash report), CR0/CR3/CR4 and EFER. CR2, CR8, the LDT and the APIC
     * base are kept.
     */
    public Sregs applyTo(Sregs current) {
        Segment data = dataSegment();
        return new Sregs(codeSegment(), data, data, data, data, data, Gdt.taskRegister(), current.ldt(),
                gdtr(), new DescriptorTable(0, 0), cr0, current.cr2(), cr3, cr4, current.cr8(), efer,
                current.apicBase());
    }
}
