/*
 * spin.rom - prints "spinning\r\n" on COM1, then loops forever with interrupts
 * off and without a single exit: the guest the monitor's stop/quit, SIGTERM,
 * -timeout and Machine.close() must still end.
 */
        .include "rom16.inc"

        .globl  _start
_start:
        rom_init
        com1_init
        com1_puts msg
.Lspin:
        jmp     .Lspin

msg:
        .asciz  "spinning\r\n"
