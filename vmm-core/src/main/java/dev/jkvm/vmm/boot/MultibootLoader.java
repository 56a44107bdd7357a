package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Boots a Multiboot (v1) kernel as QEMU's {@code -kernel} does: loads it by its ELF32 program
 * headers, or by the header's a.out-kludge address fields (flag 16, which wins when set), loads
 * the {@code -initrd} modules page-aligned after it, and enters it in 32-bit protected mode with
 * paging off, {@code EAX = 0x2BADB002} and {@code EBX} = the Multiboot information structure.
 *
 * <p>Placement: the kernel where it asks (refused if that is not RAM or overlaps the GDT at
 * {@link Layout#BOOT_GDT} or the boot stack below {@link Layout#BOOT_STACK_TOP}); the information
 * structure and module list at {@link Layout#BOOT_INFO}, the mmap at {@link Layout#BOOT_MEMORY_MAP},
 * the command lines (the kernel's is QEMU's: the kernel path, a space, {@code -append}) and the
 * loader name at {@link Layout#BOOT_COMMAND_LINES}, each moved to the first free pages above the
 * kernel when the kernel loads there (one linked at 0x8000); modules from the first free page
 * past the kernel upwards, below 4 GiB.
 *
 * <pre>{@code
 * BootEntry entry = MultibootLoader.load(new BootRequest(kernel, "mod1 arg,mod2", "debug"), memory, e820);
 * }</pre>
 */
public final class MultibootLoader {

    public static final String FORMAT = "Multiboot";

    /** Info flags jkvm provides: memory, cmdline, mods, mmap, boot_loader_name. */
    static final int INFO_MEMORY = 1;
    static final int INFO_CMDLINE = 1 << 2;
    static final int INFO_MODS = 1 << 3;
    static final int INFO_MMAP = 1 << 6;
    static final int INFO_LOADER_NAME = 1 << 9;
    /** Bytes reserved for the information structure (it is 116 bytes long) before the module list. */
    static final int INFO_SIZE = 128;
    static final int MODULE_ENTRY_SIZE = 16;
    static final int MAX_MODULES = (4096 - INFO_SIZE) / MODULE_ENTRY_SIZE;
    static final long LIMIT_32 = 1L << 32;
    /** The name the loader gives itself (boot_loader_name). */
    static final String LOADER_NAME = "jkvm";

    /** A contiguous part of the kernel: file bytes at {@code paddr}, zeros up to {@code memSize}. */
    private record Piece(long fileOffset, long paddr, long fileSize, long memSize) {
    }

    private MultibootLoader() {
    }

    /**
     * Loads the Multiboot kernel of {@code request} into {@code memory}.
     *
     * @throws dev.jkvm.vmm.JkvmException with one line naming the file for anything wrong with it
     */
    public static BootEntry load(BootRequest request, GuestMemory memory, E820 e820) {
        return KernelLoader.withImage(request, memory, e820, MultibootLoader::load);
    }

    static BootEntry load(ImageFile kernel, byte[] head, BootRequest request, GuestMemory memory, E820 e820) {
        MultibootHeader header = MultibootHeader.parse(kernel, head);
        List<Piece> pieces = new ArrayList<>();
        long entry = header.hasAddresses() ? aoutKludge(kernel, header, pieces) : elf(kernel, head, pieces);

        RamPlanner plan = new RamPlanner(e820);
        plan.takeBootData("GDT", Layout.BOOT_GDT, 32);
        plan.takeBootData("boot stack", Layout.BOOT_STACK_BOTTOM, Layout.BOOT_STACK_TOP - Layout.BOOT_STACK_BOTTOM);
        long kernelEnd = 0;
        for (Piece p : pieces) {
            checkKernelRange(kernel, plan, memory.map(), p.paddr(), p.memSize());
            plan.take("kernel", p.paddr(), p.memSize());
            kernelEnd = Math.max(kernelEnd, p.paddr() + p.memSize());
        }
        long entryAt = entry;
        if (pieces.stream().noneMatch(p -> entryAt >= p.paddr() && entryAt < p.paddr() + p.memSize())) {
            throw kernel.refuse(String.format("the entry point 0x%x is outside what the kernel loads", entry));
        }
        // The information jkvm builds goes where it always does unless the kernel loads there (one
        // linked at 0x8000, say); then above the kernel, as QEMU puts its Multiboot data after the image.
        long infoAt = placeBootData(kernel, plan, "Multiboot info", Layout.BOOT_INFO, 4096, kernelEnd);
        long mmapAt = placeBootData(kernel, plan, "Multiboot mmap", Layout.BOOT_MEMORY_MAP, 4096, kernelEnd);

        List<MultibootModules.Module> specs = MultibootModules.parse(request.initrd());
        if (specs.size() > MAX_MODULES) {
            throw new JkvmException("-initrd: " + specs.size() + " Multiboot modules, jkvm passes at most " + MAX_MODULES);
        }
        CommandLines measured = commandLines(Layout.BOOT_COMMAND_LINES, request, specs, new ArrayList<>());
        if (!measured.fits()) {
            throw kernel.refuse("the command lines take " + measured.size() + " bytes, more than the "
                    + CommandLines.CAPACITY + " jkvm has room for");
        }
        long stringsAt = placeBootData(kernel, plan, "command lines", Layout.BOOT_COMMAND_LINES,
                RamPlanner.alignUp(Math.max(measured.size(), 1), RamPlanner.PAGE), kernelEnd);
        List<Long> stringAddresses = new ArrayList<>();
        CommandLines strings = commandLines(stringsAt, request, specs, stringAddresses);
        long cmdline = stringAddresses.getFirst();
        long loaderName = stringAddresses.getLast();
        List<Long> moduleStrings = stringAddresses.subList(1, stringAddresses.size() - 1);
        List<ImageFile> modules = new ArrayList<>();
        try {
            List<Long> moduleAt = new ArrayList<>();
            for (MultibootModules.Module spec : specs) {
                ImageFile f = ImageFile.open("-initrd", spec.path());
                modules.add(f);
                f.requireAtMost(memory.map().ramSize());
                long at = plan.lowest(f.size(), RamPlanner.PAGE, RamPlanner.alignUp(kernelEnd, RamPlanner.PAGE));
                if (at < 0 || at + f.size() > LIMIT_32) {
                    throw f.refuse("too large for the guest's RAM: no room for this " + ImageFile.mib(f.size())
                            + " module below 4 GiB after the kernel and the modules before it (give more -m)");
                }
                plan.take("module " + spec.path(), at, f.size());
                moduleAt.add(at);
            }

            byte[] mmap = e820.multiboot();
            if (mmap.length > 4096) {
                throw new IllegalStateException(e820.entries().size() + " e820 entries do not fit the Multiboot mmap page");
            }

            // Everything is planned and checked: from here on, only writes.
            Gdt.write(memory, Gdt.flat(false));
            for (Piece p : pieces) {
                kernel.copyTo(memory, p.paddr(), p.fileOffset(), p.fileSize());
                if (p.memSize() > p.fileSize()) {
                    memory.slice(p.paddr() + p.fileSize(), p.memSize() - p.fileSize()).fill((byte) 0);
                }
            }
            ByteBuffer mods = Elf.le(new byte[specs.size() * MODULE_ENTRY_SIZE]);
            for (int i = 0; i < modules.size(); i++) {
                ImageFile f = modules.get(i);
                long at = moduleAt.get(i);
                f.copyTo(memory, at, 0, f.size());
                mods.putInt(i * MODULE_ENTRY_SIZE, (int) at)
                        .putInt(i * MODULE_ENTRY_SIZE + 4, (int) (at + f.size()))
                        .putInt(i * MODULE_ENTRY_SIZE + 8, moduleStrings.get(i).intValue());
            }
            memory.write(stringsAt, strings.bytes());
            memory.write(mmapAt, mmap);
            memory.write(infoAt, info(e820, cmdline, specs.size(), infoAt + INFO_SIZE, mmap.length, mmapAt, loaderName));
            memory.write(infoAt + INFO_SIZE, mods.array());
            return BootEntry.protected32(FORMAT, entry, Integer.toUnsignedLong(MultibootHeader.BOOTLOADER_MAGIC),
                    infoAt, 0, plan.placements());
        } finally {
            modules.forEach(ImageFile::close);
        }
    }

    /** The kernel's, each module's command line and the loader's name, from {@code base}; their addresses into {@code at}. */
    private static CommandLines commandLines(long base, BootRequest request, List<MultibootModules.Module> specs, List<Long> at) {
        CommandLines strings = new CommandLines(base);
        at.add(strings.add(request.kernel() + " " + request.append()));
        for (MultibootModules.Module spec : specs) {
            at.add(strings.add(spec.commandLine()));
        }
        at.add(strings.add(LOADER_NAME));
        return strings;
    }

    /**
     * Takes {@code [preferred, preferred + size)} for {@code what} when it is free; else the lowest
     * free page-aligned RAM above the kernel ({@code floor}), else any below 4 GiB.
     */
    private static long placeBootData(ImageFile kernel, RamPlanner plan, String what, long preferred, long size, long floor) {
        long at = preferred;
        if (!plan.isUsable(at, size) || plan.overlapping(at, size) != null) {
            at = plan.lowest(size, RamPlanner.PAGE, RamPlanner.alignUp(floor, RamPlanner.PAGE));
            if (at < 0 || at + size > LIMIT_32) {
                at = plan.lowest(size, RamPlanner.PAGE, Layout.BOOT_DATA_START);
            }
            if (at < 0 || at + size > LIMIT_32) {
                throw kernel.refuse("no room below 4 GiB for the " + what + " beside the kernel (give more -m)");
            }
        }
        plan.take(what, at, size);
        return at;
    }

    /** The Multiboot information structure (the fields jkvm fills; the rest zero). */
    static byte[] info(E820 e820, long cmdline, int moduleCount, long modsAddr, int mmapLength, long mmapAddr, long loaderName) {
        ByteBuffer b = Elf.le(new byte[INFO_SIZE]);
        b.putInt(0, INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MMAP | INFO_LOADER_NAME);
        b.putInt(4, (int) (e820.usableFrom(0) / 1024));
        b.putInt(8, (int) Math.min(e820.usableFrom(Layout.HIGH_RAM_START) / 1024, 0xffff_ffffL));
        b.putInt(16, (int) cmdline);
        b.putInt(20, moduleCount);
        b.putInt(24, (int) modsAddr);
        b.putInt(44, mmapLength);
        b.putInt(48, (int) mmapAddr);
        b.putInt(64, (int) loaderName);
        return b.array();
    }

    /** The kernel as the header's address fields describe it; returns the entry point. */
    private static long aoutKludge(ImageFile kernel, MultibootHeader h, List<Piece> pieces) {
        if (h.headerAddr() < h.loadAddr()) {
            throw kernel.refuse(String.format("Multiboot header_addr 0x%x is below load_addr 0x%x", h.headerAddr(), h.loadAddr()));
        }
        long fileOffset = h.offset() - (h.headerAddr() - h.loadAddr());
        if (fileOffset < 0) {
            throw kernel.refuse(String.format("Multiboot load_addr 0x%x would start before the file", h.loadAddr()));
        }
        long loadEnd = h.loadEndAddr() == 0 ? h.loadAddr() + (kernel.size() - fileOffset) : h.loadEndAddr();
        if (loadEnd <= h.loadAddr()) {
            throw kernel.refuse(String.format("Multiboot load_end_addr 0x%x is not above load_addr 0x%x", loadEnd, h.loadAddr()));
        }
        long fileSize = loadEnd - h.loadAddr();
        if (fileOffset + fileSize > kernel.size()) {
            throw kernel.refuse(String.format("truncated: the Multiboot header asks for 0x%x bytes from file offset 0x%x, the file has %d",
                    fileSize, fileOffset, kernel.size()));
        }
        long bssEnd = h.bssEndAddr() == 0 ? loadEnd : h.bssEndAddr();
        if (bssEnd < loadEnd) {
            throw kernel.refuse(String.format("Multiboot bss_end_addr 0x%x is below load_end_addr 0x%x", bssEnd, loadEnd));
        }
        pieces.add(new Piece(fileOffset, h.loadAddr(), fileSize, bssEnd - h.loadAddr()));
        return h.entryAddr();
    }

    /** The kernel as its ELF32 program headers describe it; returns the physical entry point. */
    private static long elf(ImageFile kernel, byte[] head, List<Piece> pieces) {
        if (!Elf.isElf(head)) {
            throw kernel.refuse("the Multiboot header has no address fields (flag 16) and the file is not ELF: nothing says where to load it");
        }
        Elf elf = Elf.parse(kernel);
        if (elf.bits() != 32) {
            throw kernel.refuse("a 64-bit ELF Multiboot kernel without address fields (flag 16): give a 32-bit ELF, as QEMU asks");
        }
        if (elf.machine() != Elf.EM_386) {
            throw kernel.refuse("an ELF32 file for machine " + elf.machine() + ", not x86 (3)");
        }
        for (Elf.Segment s : elf.segments()) {
            pieces.add(new Piece(s.offset(), s.paddr(), s.fileSize(), s.memSize()));
        }
        // An entry given as a virtual address inside a segment runs at that segment's physical address.
        Elf.Segment s = elf.segmentWithVaddr(elf.entry());
        return s == null ? elf.entry() : s.paddr() + (elf.entry() - s.vaddr());
    }

    private static void checkKernelRange(ImageFile kernel, RamPlanner plan, MemoryMap map, long base, long size) {
        if (base + size > LIMIT_32) {
            throw kernel.refuse(String.format("loads at 0x%x-0x%x, above 4 GiB", base, base + size - 1));
        }
        if (!plan.isUsable(base, size)) {
            throw kernel.refuse(String.format("too large for the guest's RAM: it loads at 0x%x-0x%x, which is not all RAM in a %s guest (give more -m)",
                    base, base + size - 1, ImageFile.mib(map.ramSize())));
        }
        BootEntry.Placement clash = plan.overlapping(base, size);
        if (clash != null) {
            throw kernel.refuse(String.format("loads at 0x%x-0x%x, over the %s jkvm puts at 0x%x", base,
                    base + size - 1, clash.what(), clash.base()));
        }
    }
}
