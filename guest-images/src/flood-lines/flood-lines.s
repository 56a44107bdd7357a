/*
 * flood-lines.rom - a hostile guest: after "flooding COM1 with lines\r\n" it
 * writes 4 KiB of 64-byte lines to COM1 with one `rep outsb` (one exit for
 * the page where KVM batches string I/O), again and again, without ever
 * polling LSR.THRE. jkvm must keep its heap flat (lines are capped), never
 * block the vCPU on a reader that stops reading, and still stop at once on
 * -timeout, quit or SIGTERM.
 */
        .include "rom16.inc"

        .globl  _start
_start:
        rom_init
        com1_init
        com1_puts msg
        com1_flood page

msg:
        .asciz  "flooding COM1 with lines\r\n"

/* 64 lines of 62 characters and CR LF: 4096 bytes */
page:
        .rept   64
        .ascii  "flood 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST\r\n"
        .endr
