/*
 * hostile-ports.rom - every port 0x0000-0xffff read with `in` of 1, 2 and 4
 * bytes, and written with `out` of 1, 2 and 4 bytes of zeros (all but the
 * debug-exit port 0xf4, which would end the run); a PC's devices and the bus
 * must take it all (no device may fail on an odd size or offset). Then
 * COM1 is set up again and "hostile-ports ok" printed; status 33 (0x10).
 * Zeros are harmless everywhere on jkvm's PC: no reset bit (0x92, 0xcf9,
 * 0x64 command 0), no sleep (PM1a_CNT SLP_EN clear).
 */
        .include "rom16.inc"

        .globl  _start
_start:
        rom_init
        xor     %dx, %dx
.Lport:
        in      %dx, %al
        in      %dx, %ax
        in      %dx, %eax
        cmp     $0xf4, %dx
        je      .Lnext
        xor     %eax, %eax
        out     %al, %dx
        out     %ax, %dx
        out     %eax, %dx
.Lnext:
        inc     %dx
        jnz     .Lport

        com1_init
        com1_puts ok
        mov     $0x10, %al
        out     %al, $0xf4
        halt_forever

ok:
        .asciz  "hostile-ports ok\r\n"
