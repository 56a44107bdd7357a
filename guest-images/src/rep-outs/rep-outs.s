/*
 * rep-outs.rom - prints on COM1 with string instructions, as minimal kernels
 * do for speed: four times "copy N\r\n" and one `rep outsb` of the same
 * 1,000 bytes (25 lines "abcdefghijklmnopqrstuvwxyz0123456789ABC\n"), without
 * polling LSR.THRE. Between copies it sets the divisor again (com1_init:
 * DLAB on and off) and sends 'L' in loopback (MCR.LOOP), which must come back
 * in RBR and not out ("loop ok" or "loop bad"). Then "rep-outs done\r\n" and
 * an exit through isa-debug-exit (status 3). Every byte must come out, in
 * order, whatever the VMM buffers: a VMM that lets KVM buffer THR writes
 * (coalesced PIO) must stop when THR stops being only output.
 */
        .include "rom16.inc"

        .set    DEBUG_EXIT_PORT, 0xf4

        .globl  _start
_start:
        rom_init
        com1_init
        mov     $'1', %bl
.Lcopy:
        com1_puts copy
        mov     %bl, %al
        mov     $COM1_THR, %dx
        out     %al, %dx
        com1_puts crlf
        mov     $block, %si
        mov     $1000, %cx
        mov     $COM1_THR, %dx
        rep outsb
        com1_init                   /* DLAB on: offset 0 is the divisor, not THR */
        outb_imm COM1_MCR, 0x13     /* loopback */
        outb_imm COM1_THR, 'L'
        mov     $COM1_LSR, %dx
.Lwait_dr:
        in      %dx, %al
        test    $0x01, %al
        jz      .Lwait_dr
        mov     $COM1_THR, %dx
        in      %dx, %al            /* RBR */
        mov     %al, %bh
        outb_imm COM1_MCR, 0x03
        cmp     $'L', %bh
        jne     .Lbad
        com1_puts loop_ok
        jmp     .Lnext
.Lbad:
        com1_puts loop_bad
.Lnext:
        inc     %bl
        cmp     $'5', %bl
        jne     .Lcopy
        com1_puts done
        mov     $1, %al
        out     %al, $DEBUG_EXIT_PORT
        halt_forever

copy:
        .asciz  "copy "
crlf:
        .asciz  "\r\n"
loop_ok:
        .asciz  "loop ok\r\n"
loop_bad:
        .asciz  "loop bad\r\n"
done:
        .asciz  "rep-outs done\r\n"

block:
        .rept   25
        .ascii  "abcdefghijklmnopqrstuvwxyz0123456789ABC\n"
        .endr
