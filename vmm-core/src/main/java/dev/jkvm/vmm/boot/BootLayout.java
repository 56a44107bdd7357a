package dev.jkvm.vmm.boot;

/**
 * Where the kernel loaders put what they build in low memory. Every loader uses the same fixed
 * addresses, all inside {@code [DATA_START, DATA_END)}, which is usable RAM in every layout (below
 * the EBDA, above the real-mode IVT and BDA); the machine must keep its own tables (ACPI, MP) out
 * of that range and out of the ranges each {@link BootEntry#placements()} lists.
 *
 * <pre>{@code
 * boolean clash = acpiBase < BootLayout.DATA_END && acpiBase + acpiSize > BootLayout.DATA_START;
 * }</pre>
 */
public final class BootLayout {

    /** The first byte the loaders may write (below it: the real-mode IVT and the BIOS data area). */
    public static final long DATA_START = 0x500;
    /** The GDT: four descriptors (null, null, code 0x10, data 0x18), as QEMU's and Firecracker's loaders place it. */
    public static final long GDT = 0x500;
    /** The initial stack pointer; a scratch stack grows down from here towards 0x1000. */
    public static final long STACK_TOP = 0x7000;
    /** One page: the Linux zero page, the PVH start_info (+ module list) or the Multiboot info (+ module list). */
    public static final long INFO = 0x7000;
    /** One page: the Multiboot mmap or the PVH memmap table. */
    public static final long MEMORY_MAP = 0x8000;
    /** Six pages, long mode only: PML4, PDPT and four page directories identity-mapping 4 GiB with 2 MiB pages. */
    public static final long PAGE_TABLES = 0x9000;
    /** The kernel command line, then module command lines and the boot loader name (NUL-terminated strings). */
    public static final long COMMAND_LINES = 0x20000;
    /** The first byte past the loaders' low-memory data. */
    public static final long DATA_END = 0x30000;
    /** Where a bzImage's protected-mode code is loaded. */
    public static final long KERNEL_LOAD = 0x100000;
    /** The name the loaders give themselves (Multiboot boot_loader_name). */
    public static final String LOADER_NAME = "jkvm";

    private BootLayout() {
    }
}
