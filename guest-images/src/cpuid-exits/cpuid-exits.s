/*
 * cpuid-exits.rom - 10000 `cpuid` instructions (each one an exit KVM handles in
 * the kernel without returning to the VMM), then "cpuid exits done\r\n" on COM1
 * and status 0x10 on the debug-exit port (jkvm exits with 33).
 */
        .include "rom16.inc"

        .set    COUNT, 10000

        .globl  _start
_start:
        rom_init
        mov     $COUNT, %si
.Lloop:
        xor     %eax, %eax
        cpuid
        dec     %si
        jnz     .Lloop
        com1_init
        com1_puts msg
        mov     $0x10, %al
        out     %al, $0xf4
        halt_forever

msg:
        .asciz  "cpuid exits done\r\n"
