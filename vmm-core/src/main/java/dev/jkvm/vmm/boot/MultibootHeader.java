package dev.jkvm.vmm.boot;

import java.nio.ByteBuffer;

/**
 * A Multiboot (v1) header: the magic {@code 0x1BADB002}, flags and checksum, 4-byte aligned in
 * the first 8 KiB of the kernel file, and the a.out-kludge address fields when flag 16 is set.
 *
 * @param offset where the header is in the file
 * @param flags the flags word
 * @param headerAddr with {@link #hasAddresses()}: the address the header's first byte is loaded at
 * @param loadAddr the address the text starts at
 * @param loadEndAddr the end of the text and data (0: the rest of the file)
 * @param bssEndAddr the end of the bss (0: no bss)
 * @param entryAddr the entry point
 */
record MultibootHeader(int offset, int flags, long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr,
                       long entryAddr) {

    static final int MAGIC = 0x1BADB002;
    /** The boot loader's answer in EAX. */
    static final int BOOTLOADER_MAGIC = 0x2BADB002;
    /** How far into the file the header may start. */
    static final int SEARCH_LIMIT = 8192;
    /** Flag 0: page-align modules. */
    static final int PAGE_ALIGN = 1;
    /** Flag 1: provide memory information. */
    static final int MEMORY_INFO = 1 << 1;
    /** Flag 2: provide video mode information (jkvm has no display and ignores it, as QEMU does). */
    static final int VIDEO_MODE = 1 << 2;
    /** Flag 16: the address fields are valid (the "a.out kludge"). */
    static final int ADDRESSES = 1 << 16;
    /** The flags a loader must understand (bits 0-15): jkvm knows 0, 1 and 2. */
    static final int REQUIRED_MASK = 0xffff;
    static final int KNOWN_REQUIRED = PAGE_ALIGN | MEMORY_INFO | VIDEO_MODE;

    /** Whether the a.out-kludge address fields are to be used. */
    boolean hasAddresses() {
        return (flags & ADDRESSES) != 0;
    }

    /** The offset of the first 4-byte-aligned magic in {@code head} (the first 8 KiB), or -1. */
    static int findMagic(byte[] head) {
        ByteBuffer b = Elf.le(head);
        int limit = Math.min(head.length, SEARCH_LIMIT) - 12;
        for (int at = 0; at <= limit; at += 4) {
            if (b.getInt(at) == MAGIC) {
                return at;
            }
        }
        return -1;
    }

    /**
     * The header in {@code file}, whose first 8 KiB hold the magic.
     *
     * @throws dev.jkvm.vmm.JkvmException for a bad checksum, unknown required flags, or a truncated header
     */
    static MultibootHeader parse(ImageFile file, byte[] head) {
        int at = findMagic(head);
        if (at < 0) {
            throw file.refuse("no Multiboot header in the first 8 KiB (wrong magic)");
        }
        ByteBuffer b = Elf.le(head);
        int flags = b.getInt(at + 4);
        int checksum = b.getInt(at + 8);
        if (MAGIC + flags + checksum != 0) {
            throw file.refuse(String.format("Multiboot header at 0x%x has a bad checksum (0x%08x, flags 0x%08x)",
                    at, checksum, flags));
        }
        int unknown = flags & REQUIRED_MASK & ~KNOWN_REQUIRED;
        if (unknown != 0) {
            throw file.refuse(String.format("the Multiboot header requires features jkvm lacks (flags 0x%x)", unknown));
        }
        if ((flags & ADDRESSES) == 0) {
            return new MultibootHeader(at, flags, 0, 0, 0, 0, 0);
        }
        ByteBuffer a = Elf.le(file.read(at + 12, 20, "the Multiboot address fields"));
        return new MultibootHeader(at, flags, Elf.u32(a, 0), Elf.u32(a, 4), Elf.u32(a, 8), Elf.u32(a, 12),
                Elf.u32(a, 16));
    }
}
