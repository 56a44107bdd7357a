/*
 * hostile-mmio.rom - MMIO a bus has to split: every access of 1, 2 and 4
 * bytes (loads and stores) at every offset 0xff8-0xfff of the last page of
 * the unbacked legacy hole 0xa0000, so those at 0xffd-0xfff cross into the
 * next page and reach the VMM as pieces of 1-3 bytes; the same across the end
 * of low RAM (0x9fffc-0x9ffff into 0xa0000, KVM writes the RAM part itself);
 * the issue's reproducer (`mov %eax, %es:0x0ffd`, ES=0xa000); then stores
 * into the ROM itself (a read-only slot: MMIO exits), which must not change
 * it. Prints "hostile-mmio ok" and writes 0x10 to the debug-exit port
 * (status 33), or "hostile-mmio rom changed" and 0x11 (status 35).
 */
        .include "rom16.inc"

        .globl  _start
_start:
        rom_init
        mov     $0xa000, %ax
        mov     %ax, %es
        mov     $0x11223344, %eax
        mov     %eax, %es:0x0ffd            /* the reproducer: pieces of 3 and 1 bytes */

        mov     $0x0ff8, %bx                /* every size at every offset into the next page */
.Lhole:
        movb    %al, %es:(%bx)
        movw    %ax, %es:(%bx)
        movl    %eax, %es:(%bx)
        movb    %es:(%bx), %cl
        movw    %es:(%bx), %cx
        movl    %es:(%bx), %ecx
        inc     %bx
        cmp     $0x1000, %bx
        jne     .Lhole

        mov     $0x9ff0, %ax                /* from the end of RAM into the hole */
        mov     %ax, %es                    /* (offsets stay below the 64 KiB segment limit) */
        mov     $0x00fc, %bx
.Lram:
        movl    $0x55667788, %es:(%bx)
        movl    %es:(%bx), %ecx
        inc     %bx
        cmp     $0x0100, %bx
        jne     .Lram

        mov     %cs, %ax                    /* stores into the ROM: ignored */
        mov     %ax, %es
        mov     %es:rom_word, %edx
        movl    $0xdeadbeef, %es:rom_word
        movw    $0xbeef, %es:rom_word + 3
        cmp     %es:rom_word, %edx
        jne     .Lchanged

        com1_init
        com1_puts ok
        mov     $0x10, %al
        out     %al, $0xf4
        halt_forever
.Lchanged:
        com1_init
        com1_puts changed
        mov     $0x11, %al
        out     %al, $0xf4
        halt_forever

        .balign 4
rom_word:
        .long   0x600df00d
ok:
        .asciz  "hostile-mmio ok\r\n"
changed:
        .asciz  "hostile-mmio rom changed\r\n"
