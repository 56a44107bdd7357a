package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Boots an uncompressed ELF kernel ({@code vmlinux}) through its PVH entry point, as Firecracker
 * and Cloud Hypervisor do: the ELF note {@code XEN_ELFNOTE_PHYS32_ENTRY} (owner "Xen", type 18)
 * names a 32-bit entry, entered in protected mode with paging off and EBX = the
 * {@code hvm_start_info} structure (version 1: with the memory map).
 *
 * <p>Placement: the loadable segments at their physical addresses; {@code hvm_start_info} at
 * {@link Layout#BOOT_INFO} with the module list 0x40 after it; the memory map at
 * {@link Layout#BOOT_MEMORY_MAP}; the command line at {@link Layout#BOOT_COMMAND_LINES}; the GDT at
 * {@link Layout#BOOT_GDT}; the initrd page-aligned at the top of usable RAM below 4 GiB.
 *
 * <pre>{@code
 * BootEntry entry = PvhLoader.load(new BootRequest(vmlinux, "initrd.img", "console=ttyS0"), memory, e820);
 * }</pre>
 */
public final class PvhLoader {

    public static final String FORMAT = "PVH ELF";
    static final String NOTE_OWNER = "Xen";
    static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    static final int START_INFO_MAGIC = 0x336ec578;
    static final int START_INFO_VERSION = 1;
    static final int START_INFO_SIZE = 0x38;
    /** Where the module list goes, from the start_info. */
    static final int MODLIST_OFFSET = 0x40;
    static final int MODLIST_ENTRY_SIZE = 32;
    static final long LIMIT_32 = 1L << 32;

    private PvhLoader() {
    }

    /**
     * Loads the PVH ELF kernel of {@code request} (and its initrd) into {@code memory}.
     *
     * @throws dev.jkvm.vmm.JkvmException with one line naming the file for anything wrong with it
     */
    public static BootEntry load(BootRequest request, GuestMemory memory, E820 e820) {
        return KernelLoader.withImage(request, memory, e820, PvhLoader::load);
    }

    static BootEntry load(ImageFile kernel, byte[] head, BootRequest request, GuestMemory memory, E820 e820) {
        if (!Elf.isElf(head)) {
            throw kernel.refuse("not an ELF file (wrong magic)");
        }
        Elf elf = Elf.parse(kernel);
        if (elf.machine() != Elf.EM_X86_64 && elf.machine() != Elf.EM_386) {
            throw kernel.refuse("an ELF file for machine " + elf.machine() + ", not x86");
        }
        long entry = pvhEntry(kernel, elf);

        RamPlanner plan = new RamPlanner(e820);
        plan.takeBootData("GDT", Layout.BOOT_GDT, 32);
        plan.takeBootData("boot stack", Layout.BOOT_STACK_BOTTOM, Layout.BOOT_STACK_TOP - Layout.BOOT_STACK_BOTTOM);
        plan.takeBootData("hvm_start_info", Layout.BOOT_INFO, 4096);
        plan.takeBootData("PVH memory map", Layout.BOOT_MEMORY_MAP, 4096);
        CommandLines cmdline = new CommandLines();
        long cmdlineAt = cmdline.add(request.append());
        if (!cmdline.fits()) {
            throw kernel.refuse("the command line (-append) is " + cmdline.size() + " bytes, more than the "
                    + CommandLines.CAPACITY + " jkvm has room for");
        }
        plan.takeBootData("command line", Layout.BOOT_COMMAND_LINES, cmdline.size());
        for (Elf.Segment s : elf.segments()) {
            long end = s.paddr() + s.memSize();
            if (end > LIMIT_32 || !plan.isUsable(s.paddr(), s.memSize())) {
                throw kernel.refuse(String.format(
                        "too large for the guest's RAM: a segment loads at 0x%x-0x%x, which is not all RAM in a %s guest (give more -m)",
                        s.paddr(), end - 1, ImageFile.mib(memory.map().ramSize())));
            }
            BootEntry.Placement clash = plan.overlapping(s.paddr(), s.memSize());
            if (clash != null) {
                throw kernel.refuse(String.format("a segment loads at 0x%x-0x%x, over the %s at 0x%x",
                        s.paddr(), end - 1, clash.what(), clash.base()));
            }
            plan.take("kernel", s.paddr(), s.memSize());
        }
        if (elf.segments().stream().noneMatch(s -> entry >= s.paddr() && entry < s.paddr() + s.memSize())) {
            throw kernel.refuse(String.format("the PVH entry point 0x%x is outside what the kernel loads", entry));
        }

        ImageFile initrd = null;
        try {
            long initrdAt = 0;
            if (request.initrd() != null) {
                initrd = ImageFile.open("-initrd", Path.of(request.initrd()));
                initrd.requireAtMost(memory.map().ramSize());
                initrdAt = plan.highest(initrd.size(), RamPlanner.PAGE, LIMIT_32);
                if (initrdAt < 0) {
                    throw initrd.refuse("too large for the guest's RAM: no room for this " + ImageFile.mib(initrd.size())
                            + " initrd below 4 GiB beside the kernel (give more -m)");
                }
                plan.take("initrd", initrdAt, initrd.size());
            }
            byte[] memmap = e820.pvh();
            if (memmap.length > 4096) {
                throw new IllegalStateException(e820.entries().size() + " e820 entries do not fit the PVH memory map page");
            }

            // Everything is planned and checked: from here on, only writes.
            Gdt.write(memory, Gdt.flat(false));
            for (Elf.Segment s : elf.segments()) {
                kernel.copyTo(memory, s.paddr(), s.offset(), s.fileSize());
                if (s.memSize() > s.fileSize()) {
                    memory.slice(s.paddr() + s.fileSize(), s.memSize() - s.fileSize()).fill((byte) 0);
                }
            }
            if (initrd != null) {
                initrd.copyTo(memory, initrdAt, 0, initrd.size());
            }
            memory.write(Layout.BOOT_COMMAND_LINES, cmdline.bytes());
            memory.write(Layout.BOOT_MEMORY_MAP, memmap);
            memory.write(Layout.BOOT_INFO, startInfo(request, cmdlineAt, initrdAt, initrd == null ? 0 : initrd.size(),
                    e820.entries().size()));
            return BootEntry.protected32(FORMAT, entry, 0, Layout.BOOT_INFO, 0, plan.placements());
        } finally {
            if (initrd != null) {
                initrd.close();
            }
        }
    }

    /** The physical entry point from the kernel's Xen PHYS32_ENTRY note. */
    static long pvhEntry(ImageFile kernel, Elf elf) {
        for (Elf.Note n : elf.notes()) {
            if (n.name().equals(NOTE_OWNER) && n.type() == XEN_ELFNOTE_PHYS32_ENTRY) {
                ByteBuffer d = Elf.le(n.desc());
                return switch (n.desc().length) {
                    case 4 -> Elf.u32(d, 0);
                    case 8 -> d.getLong(0);
                    default -> throw kernel.refuse("corrupt PVH entry note: " + n.desc().length + " bytes, expected 4 or 8");
                };
            }
        }
        throw kernel.refuse("an ELF kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): "
                + "jkvm boots ELF kernels through PVH, or by a Multiboot header");
    }

    /** {@code struct hvm_start_info} (version 1) followed, at 0x40, by the module list. */
    static byte[] startInfo(BootRequest request, long cmdlineAt, long initrdAt, long initrdSize, int memmapEntries) {
        ByteBuffer b = Elf.le(new byte[MODLIST_OFFSET + MODLIST_ENTRY_SIZE]);
        int modules = initrdSize > 0 ? 1 : 0;
        b.putInt(0x00, START_INFO_MAGIC);
        b.putInt(0x04, START_INFO_VERSION);
        b.putInt(0x08, 0);
        b.putInt(0x0c, modules);
        b.putLong(0x10, modules > 0 ? Layout.BOOT_INFO + MODLIST_OFFSET : 0);
        b.putLong(0x18, cmdlineAt);
        b.putLong(0x20, request.acpiRsdp());
        b.putLong(0x28, Layout.BOOT_MEMORY_MAP);
        b.putInt(0x30, memmapEntries);
        if (modules > 0) {
            b.putLong(MODLIST_OFFSET, initrdAt);
            b.putLong(MODLIST_OFFSET + 8, initrdSize);
        }
        return b.array();
    }
}
