package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Boots a Linux bzImage by the x86 boot protocol's 64-bit entry (or its 32-bit entry for a kernel
 * without one), as a VMM without firmware does: no real-mode setup code runs; the loader fills the
 * zero page ({@code struct boot_params}) itself.
 *
 * <p>Placement: the protected-mode code at {@link Layout#KERNEL_LOAD} (1 MiB), with room
 * reserved up to where the kernel decompresses itself plus its {@code init_size}; the zero page
 * at {@link Layout#BOOT_INFO}; the command line at {@link Layout#BOOT_COMMAND_LINES}; the GDT at
 * {@link Layout#BOOT_GDT}; the identity page tables (4 GiB, 2 MiB pages) at
 * {@link Layout#BOOT_PAGE_TABLES}; the initrd page-aligned at the top of usable RAM below 4 GiB and
 * below the kernel's {@code initrd_addr_max} (under any range the machine reserved in the e820
 * map). Entry: RIP = 1 MiB + 0x200 ({@code startup_64}), RSI = the zero page, CS 0x10, DS 0x18,
 * interrupts off.
 *
 * <pre>{@code
 * BootEntry entry = LinuxLoader.load(new BootRequest(bzImage, "initrd.img", "console=ttyS0"), memory, e820);
 * }</pre>
 */
public final class LinuxLoader {

    public static final String FORMAT = "Linux bzImage";
    /** The 64-bit entry point's offset from the load address. */
    public static final long STARTUP_64_OFFSET = 0x200;
    /** "Undefined" boot loader ID: not one of the registered ones. */
    static final int LOADER_TYPE_UNDEFINED = 0xff;
    /** The end of the setup heap, relative to the real-mode code, minus 0x200 (setup never runs; a sane value anyway). */
    static final int HEAP_END = 0xde00;
    static final int ZERO_PAGE_SIZE = 4096;
    // Zero-page offsets outside the setup header.
    static final int ACPI_RSDP_ADDR = 0x070;
    static final int E820_ENTRIES = 0x1e8;
    static final int E820_TABLE = 0x2d0;
    static final long LIMIT_32 = 1L << 32;

    private LinuxLoader() {
    }

    /**
     * Loads the bzImage of {@code request} (and its initrd) into {@code memory}.
     *
     * @throws dev.jkvm.vmm.JkvmException with one line naming the file for anything wrong with it
     */
    public static BootEntry load(BootRequest request, GuestMemory memory, E820 e820) {
        return KernelLoader.withImage(request, memory, e820, LinuxLoader::load);
    }

    static BootEntry load(ImageFile kernel, byte[] head, BootRequest request, GuestMemory memory, E820 e820) {
        LinuxSetupHeader h = LinuxSetupHeader.parse(kernel, head);
        long payload = kernel.size() - h.setupBytes();
        int cmdlineLength = CommandLines.length(request.append());
        if (cmdlineLength > h.cmdlineSize()) {
            throw kernel.refuse("the command line (-append) is " + cmdlineLength + " bytes, this kernel takes at most "
                    + h.cmdlineSize());
        }

        RamPlanner plan = new RamPlanner(e820);
        plan.takeBootData("GDT", Layout.BOOT_GDT, 32);
        plan.takeBootData("boot stack", Layout.BOOT_STACK_BOTTOM, Layout.BOOT_STACK_TOP - Layout.BOOT_STACK_BOTTOM);
        plan.takeBootData("zero page", Layout.BOOT_INFO, ZERO_PAGE_SIZE);
        if (h.kernel64()) {
            plan.takeBootData("page tables", Layout.BOOT_PAGE_TABLES, PageTables.SIZE);
        }
        plan.takeBootData("command line", Layout.BOOT_COMMAND_LINES, cmdlineLength + 1);
        long runtime = h.runtimeStart(Layout.KERNEL_LOAD);
        long footprintEnd = Math.max(Layout.KERNEL_LOAD + payload, runtime + h.initSize());
        long footprint = footprintEnd - Layout.KERNEL_LOAD;
        if (footprintEnd > LIMIT_32 || !plan.isUsable(Layout.KERNEL_LOAD, footprint)) {
            throw kernel.refuse(String.format(
                    "too large for the guest's RAM: the kernel needs RAM from 1 MiB to 0x%x (%s: %s to decompress at 0x%x), the guest has %s (give more -m)",
                    footprintEnd, ImageFile.mib(footprintEnd), ImageFile.mib(h.initSize()), runtime,
                    ImageFile.mib(memory.map().ramSize())));
        }
        plan.take("kernel (with init_size)", Layout.KERNEL_LOAD, footprint);

        ImageFile initrd = null;
        try {
            long initrdAt = 0;
            if (request.initrd() != null) {
                initrd = ImageFile.open("-initrd", Path.of(request.initrd()));
                initrd.requireAtMost(memory.map().ramSize());
                long ceiling = Math.min(h.initrdAddrMax() + 1, LIMIT_32);
                initrdAt = plan.highest(initrd.size(), RamPlanner.PAGE, ceiling);
                if (initrdAt < 0) {
                    throw initrd.refuse(String.format(
                            "too large for the guest's RAM: no room for this %s initrd below 0x%x beside the kernel (give more -m)",
                            ImageFile.mib(initrd.size()), ceiling));
                }
                plan.take("initrd", initrdAt, initrd.size());
            }
            byte[] zeroPage = zeroPage(h, e820, request, initrdAt, initrd == null ? 0 : initrd.size());

            // Everything is planned and checked: from here on, only writes.
            Gdt.write(memory, Gdt.flat(h.kernel64()));
            kernel.copyTo(memory, Layout.KERNEL_LOAD, h.setupBytes(), payload);
            if (initrd != null) {
                initrd.copyTo(memory, initrdAt, 0, initrd.size());
            }
            CommandLines cmdline = new CommandLines();
            cmdline.add(request.append());
            memory.write(Layout.BOOT_COMMAND_LINES, cmdline.bytes());
            memory.write(Layout.BOOT_INFO, zeroPage);
            if (h.kernel64()) {
                long cr3 = PageTables.write(memory, Layout.BOOT_PAGE_TABLES);
                return BootEntry.longMode(FORMAT, Layout.KERNEL_LOAD + STARTUP_64_OFFSET, Layout.BOOT_INFO, cr3,
                        plan.placements());
            }
            // The 32-bit protocol: code32_start is where the protected-mode code starts, 1 MiB for us.
            return BootEntry.protected32(FORMAT, Layout.KERNEL_LOAD, 0, 0, Layout.BOOT_INFO, plan.placements());
        } finally {
            if (initrd != null) {
                initrd.close();
            }
        }
    }

    /** The zero page: the image's setup header, then what the loader tells the kernel. */
    static byte[] zeroPage(LinuxSetupHeader h, E820 e820, BootRequest request, long initrdAt, long initrdSize) {
        ByteBuffer z = Elf.le(new byte[ZERO_PAGE_SIZE]);
        z.put(LinuxSetupHeader.OFFSET, h.raw());
        z.put(LinuxSetupHeader.TYPE_OF_LOADER, (byte) LOADER_TYPE_UNDEFINED);
        z.put(LinuxSetupHeader.LOADFLAGS, (byte) (h.loadFlags() | LinuxSetupHeader.CAN_USE_HEAP));
        z.putShort(LinuxSetupHeader.HEAP_END_PTR, (short) HEAP_END);
        z.putInt(LinuxSetupHeader.CODE32_START, (int) Layout.KERNEL_LOAD);
        z.putInt(LinuxSetupHeader.CMD_LINE_PTR, (int) Layout.BOOT_COMMAND_LINES);
        z.putInt(LinuxSetupHeader.RAMDISK_IMAGE, (int) initrdAt);
        z.putInt(LinuxSetupHeader.RAMDISK_SIZE, (int) initrdSize);
        if (request.acpiRsdp() != 0 && h.version() >= 0x020e) {
            z.putLong(ACPI_RSDP_ADDR, request.acpiRsdp());
        }
        byte[] table = e820.linuxBootParams();
        z.put(E820_ENTRIES, (byte) e820.entries().size());
        z.put(E820_TABLE, table);
        return z.array();
    }
}
