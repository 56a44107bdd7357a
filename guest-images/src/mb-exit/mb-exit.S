/*
 * mb-exit - the smallest Multiboot kernel: prints one line on COM1 and ends through
 * isa-debug-exit (status (0x10 << 1) | 1 = 33), as a test kernel of a harness does. The
 * benchmark of a kernel's whole run (./bench --only e2e) boots it under jkvm and under QEMU.
 */
        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0
        .set COM1, 0x3f8
        .set DEBUG_EXIT, 0xf4

        .section .multiboot, "a"
        .balign 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

        .text
        .code32
        .globl _start
_start:
        mov     $message, %esi
        mov     $COM1, %dx
1:      lodsb
        test    %al, %al
        jz      2f
        outb    %al, %dx
        jmp     1b
2:      mov     $0x10, %al
        outb    %al, $DEBUG_EXIT
3:      cli
        hlt
        jmp     3b

message:
        .asciz  "mb-exit: hello from a Multiboot kernel\r\n"
