/*
 * wake.S - the S3 waking routine. The kernel copies this blob to WAKE_ADDR
 * (0x6000) and puts that address in FACS.firmware_waking_vector; on resume
 * the firmware (or the VMM) starts the BSP in real mode at
 * CS = 0x600, IP = 0 with every device reset. It sets COM1 up again,
 * prints "woke up", and then either ends the run (wake_long = 0: out 0x10
 * to port 0xf4) or goes back to long mode (wake_long = 1: PAE, EFER.LME,
 * PE + PG at once on the page tables at wake_cr3, which the kernel built in
 * low memory) and calls wake_entry on wake_stack, as the AP trampoline of
 * the cpuinfo kernel does. The kernel fills in the fields at the end
 * before sleeping. Addresses inside the blob are WAKE + (label -
 * wake_start): it runs where it is not linked.
 */
#define WAKE 0x6000
#define OFF(label) ((label) - wake_start)
#include "long_mode_blob.inc"

        .section .rodata
        .balign 16
        .globl  wake_start, wake_end
        .globl  wake_long, wake_cr3, wake_stack, wake_entry

        .code16
wake_start:
        cli
        cld
        mov     %cs, %ax                /* 0x0600 */
        mov     %ax, %ds
        mov     %ax, %ss
        mov     $0x1000, %sp            /* the top of the blob's page */

        /* COM1: 115200 8N1, DTR + RTS (the reset left it in its power-on state). */
        mov     $0x3fb, %dx
        mov     $0x80, %al              /* DLAB */
        out     %al, %dx
        mov     $0x3f8, %dx
        mov     $0x01, %al              /* divisor 1 */
        out     %al, %dx
        inc     %dx
        xor     %al, %al
        out     %al, %dx
        mov     $0x3fb, %dx
        mov     $0x03, %al              /* 8N1, DLAB off */
        out     %al, %dx
        inc     %dx
        mov     $0x03, %al              /* DTR + RTS */
        out     %al, %dx

        mov     $OFF(msg_woke), %si
1:      lodsb
        test    %al, %al
        jz      3f
        mov     %al, %ah
        mov     $0x3fd, %dx             /* LSR */
2:      in      %dx, %al
        test    $0x20, %al              /* THRE */
        jz      2b
        mov     $0x3f8, %dx
        mov     %ah, %al
        out     %al, %dx
        jmp     1b

3:      cmpb    $0, OFF(wake_long)
        jne     long_mode
        mov     $0x10, %al              /* EXIT_PASS */
        out     %al, $0xf4
4:      cli
        hlt
        jmp     4b

long_mode:
        enter_long_mode WAKE, wake_start, wake_gdtr, wake_cr3, wake_stack, wake_entry

msg_woke:
        .asciz  "woke up\r\n"

        long_mode_gdt WAKE, wake_start, wake
        .balign 8
wake_cr3:
        .quad   0
wake_stack:
        .quad   0
wake_entry:
        .quad   0
wake_long:
        .byte   0
wake_end:
