package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.board.Layout;
import java.util.List;

/**
 * Tiny kernels for each boot protocol, which check the register the protocol defines and print
 * what the loader handed them on COM1 (polled, no UART setup), then halt. Each prints a first line
 * ending in "OK" when the protocol's register checks pass, "BAD ..." otherwise.
 */
final class TestKernels {

    /** Where the Multiboot kernels load, and where their code starts (after the header). */
    static final long MB_LOAD = 0x100000;
    static final long MB_ELF_ENTRY = MB_LOAD + 16;
    static final long MB_AOUT_ENTRY = MB_LOAD + 32;
    /** Bytes of bss the Multiboot ELF kernel asks for past its code. */
    static final long MB_BSS = 0x3000;
    static final long PVH_LOAD = 0x1000000;

    private TestKernels() {
    }

    /**
     * Multiboot code: checks EAX, then prints "MB OK", the kernel command line, the boot loader
     * name, the first module's command line and its contents (a NUL-terminated text), a line each.
     */
    static byte[] multibootCode(long origin) {
        return new GuestCode(origin)
                .serialPort()
                .cmpEax(MultibootHeader.BOOTLOADER_MAGIC).jne("bad")
                .print("ok")
                .movEsiFromEbx(16).puts().print("nl")
                .movEsiFromEbx(64).puts().print("nl")
                .movEdiFromEbx(24).movEsiFromEdi(8).puts().print("nl")
                .movEsiFromEdi(0).puts()
                .halt()
                .label("bad").print("badmsg").halt()
                .string("ok", "MB OK\n").string("nl", "\n").string("badmsg", "MB BAD EAX\n")
                .build();
    }

    /** An ELF32 Multiboot kernel: one segment at 1 MiB holding the header, then the code, then bss. */
    static byte[] multibootElf() {
        byte[] text = multibootElfText();
        return TestImages.elf(32, MB_ELF_ENTRY, List.of(new TestImages.Seg(MB_LOAD, MB_LOAD, text, text.length + MB_BSS)), null);
    }

    /** What {@link #multibootElf()} loads at 1 MiB: the header, padding, the code. */
    static byte[] multibootElfText() {
        byte[] header = TestImages.multibootHeader(MultibootHeader.PAGE_ALIGN | MultibootHeader.MEMORY_INFO, false);
        return TestImages.concat(header, new byte[4], multibootCode(MB_ELF_ENTRY));
    }

    /** The same kernel as a flat binary described by the a.out-kludge fields (header at the file's start). */
    static byte[] multibootAout(long bss) {
        byte[] code = multibootCode(MB_AOUT_ENTRY);
        long loadEnd = MB_AOUT_ENTRY + code.length;
        byte[] header = TestImages.multibootKludgeHeader(MultibootHeader.PAGE_ALIGN, MB_LOAD, MB_LOAD, loadEnd,
                loadEnd + bss, MB_AOUT_ENTRY);
        return TestImages.concat(header, code);
    }

    /** PVH code: checks the start_info magic at EBX, then prints "PVH OK", the command line and the initrd's text. */
    static byte[] pvhCode(long origin) {
        return new GuestCode(origin)
                .serialPort()
                .cmpAtEbx(PvhLoader.START_INFO_MAGIC).jne("bad")
                .print("ok")
                .movEsiFromEbx(0x18).puts().print("nl")
                .movEdiFromEbx(0x10).movEsiFromEdi(0).puts()
                .halt()
                .label("bad").print("badmsg").halt()
                .string("ok", "PVH OK\n").string("nl", "\n").string("badmsg", "PVH BAD EBX\n")
                .build();
    }

    /** An ELF64 kernel at 16 MiB with a PVH entry note naming its (physical) code. */
    static byte[] pvhElf() {
        byte[] code = pvhCode(PVH_LOAD);
        return TestImages.elf(64, 0xffffffff81000000L,
                List.of(new TestImages.Seg(PVH_LOAD, 0xffffffff81000000L, code, code.length)), TestImages.pvhNote(PVH_LOAD));
    }

    /**
     * 64-bit code for startup_64: checks RSI is the zero page and that the CPU is in 64-bit mode
     * (0x48 is REX.W there, "dec eax" in 32-bit mode), then prints "LINUX64 OK", the command line
     * and the initrd's text.
     */
    static byte[] linux64Code(long origin) {
        return new GuestCode(origin)
                .serialPort()
                .cmpEsi((int) Layout.BOOT_INFO).jne("bad")
                .bytes(0x31, 0xc0)             // xor eax, eax
                .bytes(0x48, 0xff, 0xc8)       // dec rax (64-bit) | dec eax; dec eax (32-bit)
                .bytes(0x83, 0xf8, 0xff)       // cmp eax, -1
                .jne("bad32")
                .print("ok")
                .movEsiImm((int) Layout.BOOT_INFO).movEsiFromEsi(LinuxSetupHeader.CMD_LINE_PTR).puts().print("nl")
                .movEsiImm((int) Layout.BOOT_INFO).movEsiFromEsi(LinuxSetupHeader.RAMDISK_IMAGE)
                .puts()
                .halt()
                .label("bad").print("badmsg").halt()
                .label("bad32").print("bad32msg").halt()
                .string("ok", "LINUX64 OK\n").string("nl", "\n").string("badmsg", "LINUX64 BAD RSI\n")
                .string("bad32msg", "LINUX64 BAD MODE\n")
                .build();
    }

    /** A bzImage whose protected-mode code has {@link #linux64Code} at startup_64 (offset 0x200). */
    static byte[] linux64BzImage() {
        byte[] code = linux64Code(Layout.KERNEL_LOAD + LinuxLoader.STARTUP_64_OFFSET);
        return TestImages.bzImage(TestImages.concat(new byte[(int) LinuxLoader.STARTUP_64_OFFSET], code), 0x020f, 0x3,
                16 << 20);
    }
}
