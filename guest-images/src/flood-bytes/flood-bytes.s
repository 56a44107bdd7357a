/*
 * flood-bytes.rom - a hostile guest: after "flooding COM1 without newlines\r\n"
 * it writes 4 KiB of 'x' (no newline, ever) to COM1 with one `rep outsb`,
 * again and again, without polling LSR.THRE: the partial line of a console
 * that waits for a newline grows for as long as this runs, unless it is capped.
 */
        .include "rom16.inc"

        .globl  _start
_start:
        rom_init
        com1_init
        com1_puts msg
        com1_flood page

msg:
        .asciz  "flooding COM1 without newlines\r\n"

page:
        .fill   4096, 1, 'x'
