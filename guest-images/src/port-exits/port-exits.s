/*
 * port-exits.rom - 10000 `out` instructions to port 0x99 (no device there, so
 * each one is a port-I/O exit to the VMM), then "port exits done\r\n" on COM1
 * and status 0x10 on the debug-exit port (jkvm exits with 33).
 */
        .include "rom16.inc"

        .set    COUNT, 10000
        .set    PORT, 0x99

        .globl  _start
_start:
        rom_init
        mov     $COUNT, %cx
        mov     $PORT, %dx
        xor     %al, %al
.Lloop:
        out     %al, %dx
        dec     %cx
        jnz     .Lloop
        com1_init
        com1_puts msg
        mov     $0x10, %al
        out     %al, $0xf4
        halt_forever

msg:
        .asciz  "port exits done\r\n"
