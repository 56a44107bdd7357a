package dev.jkvm.vmm.boot;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The setup header of a Linux x86 kernel image (bzImage), at offset 0x1F1 of the file, with the
 * fields a loader reads (Documentation/arch/x86/boot.rst). Fields newer than the image's protocol
 * version hold the values the protocol prescribes for older kernels.
 *
 * @param version the boot protocol version, e.g. 0x020f for 2.15
 * @param setupSects 512-byte sectors of real-mode setup code after the boot sector (0 means 4)
 * @param sysSize the protected-mode code's size in 16-byte paragraphs
 * @param loadFlags {@link #LOADED_HIGH}, ...
 * @param code32Start the 32-bit entry point for a kernel loaded at 1 MiB
 * @param initrdAddrMax the highest address the initrd may occupy (inclusive)
 * @param kernelAlignment the alignment a relocatable kernel needs
 * @param relocatable whether the kernel can run from another address than {@link #prefAddress()}
 * @param xloadFlags {@link #XLF_KERNEL_64}, ...
 * @param cmdlineSize the longest command line the kernel takes, without its NUL
 * @param prefAddress where the kernel prefers to run (its link address); 0 before protocol 2.10
 * @param initSize the memory the kernel needs from where it runs before it reads the memory map
 * @param raw the header's bytes, from 0x1F1 to its end (0x202 + the byte at 0x201)
 */
record LinuxSetupHeader(int version, int setupSects, long sysSize, int loadFlags, long code32Start,
                        long initrdAddrMax, long kernelAlignment, boolean relocatable, int xloadFlags,
                        long cmdlineSize, long prefAddress, long initSize, byte[] raw) {

    static final int OFFSET = 0x1f1;
    /** "HdrS", little-endian, at 0x202. */
    static final int MAGIC = 0x53726448;
    static final int MAGIC_OFFSET = 0x202;
    static final int BOOT_FLAG = 0xAA55;
    /** The oldest protocol jkvm boots: 2.06 has cmdline_size and the 32-bit protocol as it is today. */
    static final int MIN_VERSION = 0x0206;
    /** loadflags bit 0: the protected-mode code is loaded at 1 MiB (a bzImage). */
    static final int LOADED_HIGH = 1;
    /** loadflags bit 7: heap_end_ptr is valid. */
    static final int CAN_USE_HEAP = 0x80;
    /** xloadflags bit 0: the kernel has the 64-bit entry point at load address + 0x200. */
    static final int XLF_KERNEL_64 = 1;

    // Offsets in the file (and in the zero page, which holds the header at the same place).
    static final int SETUP_SECTS = 0x1f1;
    static final int SYSSIZE = 0x1f4;
    static final int BOOT_FLAG_AT = 0x1fe;
    static final int JUMP = 0x200;
    static final int VERSION = 0x206;
    static final int TYPE_OF_LOADER = 0x210;
    static final int LOADFLAGS = 0x211;
    static final int CODE32_START = 0x214;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21c;
    static final int HEAP_END_PTR = 0x224;
    static final int CMD_LINE_PTR = 0x228;
    static final int INITRD_ADDR_MAX = 0x22c;
    static final int KERNEL_ALIGNMENT = 0x230;
    static final int RELOCATABLE_KERNEL = 0x234;
    static final int XLOADFLAGS = 0x236;
    static final int CMDLINE_SIZE = 0x238;
    static final int PREF_ADDRESS = 0x258;
    static final int INIT_SIZE = 0x260;

    /**
     * Parses and validates the header in {@code head} (the file's first bytes).
     *
     * @throws dev.jkvm.vmm.JkvmException for a wrong magic or boot flag, an old protocol, a zImage, a truncated file
     */
    static LinuxSetupHeader parse(ImageFile file, byte[] head) {
        if (head.length < 0x400) {
            throw file.refuse("truncated: " + file.size() + " bytes is too short for a Linux kernel's setup header");
        }
        ByteBuffer b = Elf.le(head);
        if (b.getInt(MAGIC_OFFSET) != MAGIC) {
            throw file.refuse("not a Linux kernel image (wrong magic: no \"HdrS\" at 0x202)");
        }
        int bootFlag = Short.toUnsignedInt(b.getShort(BOOT_FLAG_AT));
        if (bootFlag != BOOT_FLAG) {
            throw file.refuse(String.format("not a Linux kernel image (boot flag 0x%04x, expected 0xaa55)", bootFlag));
        }
        int version = Short.toUnsignedInt(b.getShort(VERSION));
        if (version < MIN_VERSION) {
            throw file.refuse(String.format("unsupported version: Linux boot protocol %s, jkvm needs 2.06 or newer",
                    versionName(version)));
        }
        int loadFlags = Byte.toUnsignedInt(b.get(LOADFLAGS));
        if ((loadFlags & LOADED_HIGH) == 0) {
            throw file.refuse("a zImage (loaded low, below 1 MiB): jkvm boots only bzImage kernels");
        }
        int end = MAGIC_OFFSET + Byte.toUnsignedInt(b.get(JUMP + 1));
        int setupSects = Byte.toUnsignedInt(b.get(SETUP_SECTS));
        LinuxSetupHeader h = new LinuxSetupHeader(version, setupSects, Elf.u32(b, SYSSIZE), loadFlags,
                Elf.u32(b, CODE32_START), Elf.u32(b, INITRD_ADDR_MAX),
                Math.max(1, Elf.u32(b, KERNEL_ALIGNMENT)), b.get(RELOCATABLE_KERNEL) != 0,
                version >= 0x020c ? Short.toUnsignedInt(b.getShort(XLOADFLAGS)) : 0,
                Elf.u32(b, CMDLINE_SIZE),
                version >= 0x020a ? b.getLong(PREF_ADDRESS) : 0,
                version >= 0x020a ? Elf.u32(b, INIT_SIZE) : 0,
                Arrays.copyOfRange(head, OFFSET, Math.max(end, CMDLINE_SIZE + 4)));
        if (Long.bitCount(h.kernelAlignment()) != 1) {
            throw file.refuse(String.format("corrupt setup header: kernel_alignment 0x%x is not a power of two", h.kernelAlignment()));
        }
        if (file.size() <= h.setupBytes()) {
            throw file.refuse("truncated: " + file.size() + " bytes, but the setup code alone takes " + h.setupBytes());
        }
        // syssize is rounded up to 16 bytes (and counts a 4-byte CRC): allow that much slack.
        long payload = file.size() - h.setupBytes();
        if (payload + 16 < h.sysSize() * 16) {
            throw file.refuse(String.format("truncated: %d bytes of protected-mode code, the setup header says %d",
                    payload, h.sysSize() * 16));
        }
        return h;
    }

    /** Bytes of the boot sector and the real-mode setup code: where the protected-mode code starts in the file. */
    long setupBytes() {
        return (setupSects == 0 ? 4L : setupSects) * 512 + 512;
    }

    /** Whether the kernel has the 64-bit entry point. */
    boolean kernel64() {
        return (xloadFlags & XLF_KERNEL_64) != 0;
    }

    /**
     * Where the kernel will run (decompress to): a relocatable kernel rounds its load address up to
     * its alignment but never goes below its link address; a fixed one runs at its link address.
     */
    long runtimeStart(long loadAddress) {
        long aligned = RamPlanner.alignUp(loadAddress, kernelAlignment);
        return Math.max(relocatable ? aligned : loadAddress, prefAddress);
    }

    /** "2.15" for 0x020f. */
    static String versionName(int version) {
        return (version >> 8) + "." + String.format("%02d", version & 0xff);
    }
}
