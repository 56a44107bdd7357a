/*
 * debug-exit.rom - prints "exiting with 0x2a\r\n" on COM1, then writes 0x2a to
 * port 0xf4 (QEMU's isa-debug-exit device; the VMM ends the run with status
 * (0x2a << 1) | 1 = 85). Halts as a fallback if the write did not end the run.
 */
        .include "rom16.inc"

        .set    DEBUG_EXIT_PORT, 0xf4
        .set    EXIT_CODE, 0x2a

        .globl  _start
_start:
        rom_init
        com1_init
        com1_puts msg
        mov     $EXIT_CODE, %al
        out     %al, $DEBUG_EXIT_PORT
        halt_forever                /* fallback: no debug-exit device */

msg:
        .asciz  "exiting with 0x2a\r\n"
