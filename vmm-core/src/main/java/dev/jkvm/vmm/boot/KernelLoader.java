package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import java.nio.file.Path;

/**
 * {@code -kernel}: recognises the image and hands it to its loader, in QEMU's order: a Linux
 * bzImage ("HdrS" at 0x202), else a Multiboot kernel (the magic in the first 8 KiB), else an ELF
 * file with a PVH entry note. Anything else is refused with one line.
 *
 * <pre>{@code
 * E820 e820 = E820.of(memory.map(), List.of());
 * BootEntry entry = KernelLoader.load(new BootRequest(Path.of("bzImage"), "initrd.img", "console=ttyS0"), memory, e820);
 * }</pre>
 */
public final class KernelLoader {

    /** The kinds of kernel image jkvm boots. */
    public enum Format {
        /** A Linux kernel by the x86 boot protocol: {@link LinuxLoader}. */
        LINUX,
        /** A Multiboot v1 kernel: {@link MultibootLoader}. */
        MULTIBOOT,
        /** An ELF kernel with a PVH entry: {@link PvhLoader}. */
        PVH
    }

    private KernelLoader() {
    }

    /**
     * Which loader {@code kernel} is for, by its first bytes.
     *
     * @throws dev.jkvm.vmm.JkvmException if it is none of the known formats (or cannot be read)
     */
    public static Format detect(Path kernel) {
        try (ImageFile f = ImageFile.open("-kernel", kernel)) {
            return detect(f, f.head(MultibootHeader.SEARCH_LIMIT));
        }
    }

    /**
     * Loads {@code request}'s kernel into {@code memory} by the loader its format calls for.
     *
     * @throws dev.jkvm.vmm.JkvmException with one line naming the file for anything wrong with it;
     *                                    guest memory is untouched when the refusal comes from a check
     */
    public static BootEntry load(BootRequest request, GuestMemory memory, E820 e820) {
        return withImage(request, memory, e820, (kernel, head, r, m, e) -> switch (detect(kernel, head)) {
            case LINUX -> LinuxLoader.load(kernel, head, r, m, e);
            case MULTIBOOT -> MultibootLoader.load(kernel, head, r, m, e);
            case PVH -> PvhLoader.load(kernel, head, r, m, e);
        });
    }

    /** One boot protocol's loader, given the open kernel file and its first bytes. */
    @FunctionalInterface
    interface FormatLoader {
        BootEntry load(ImageFile kernel, byte[] head, BootRequest request, GuestMemory memory, E820 e820);
    }

    /**
     * Opens {@code request}'s kernel, refuses one larger than the guest's RAM, and hands it with
     * its first {@link MultibootHeader#SEARCH_LIMIT} bytes to {@code loader}; closes it after.
     */
    static BootEntry withImage(BootRequest request, GuestMemory memory, E820 e820, FormatLoader loader) {
        try (ImageFile kernel = ImageFile.open("-kernel", request.kernel())) {
            kernel.requireAtMost(memory.map().ramSize());
            return loader.load(kernel, kernel.head(MultibootHeader.SEARCH_LIMIT), request, memory, e820);
        }
    }

    static Format detect(ImageFile kernel, byte[] head) {
        if (head.length >= LinuxSetupHeader.MAGIC_OFFSET + 4
                && Elf.le(head).getInt(LinuxSetupHeader.MAGIC_OFFSET) == LinuxSetupHeader.MAGIC) {
            return Format.LINUX;
        }
        if (MultibootHeader.findMagic(head) >= 0) {
            return Format.MULTIBOOT;
        }
        if (Elf.isElf(head)) {
            return Format.PVH;
        }
        throw kernel.refuse("none of the known formats (wrong magic): not a Linux bzImage (no \"HdrS\" at 0x202), "
                + "no Multiboot header in the first 8 KiB, not ELF");
    }
}
