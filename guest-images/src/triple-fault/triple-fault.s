/*
 * triple-fault.rom - for tests of the VMM's triple-fault (KVM_EXIT_SHUTDOWN)
 * report. Prints "triple fault ahead\r\n" on COM1, loads an empty IDT
 * (limit 0), enters 32-bit protected mode and executes ud2:
 *   #UD: vector 6 is beyond the IDT limit -> #GP, also beyond it -> #DF,
 *   also beyond it -> triple fault -> shutdown (KVM_EXIT_SHUTDOWN).
 *
 * Why protected mode: KVM may run real-mode code in its instruction
 * emulator (e.g. without VMX unrestricted guest, or under kvm_pvm), and the
 * emulator delivers real-mode interrupts through the IVT at IDT.base WITHOUT
 * checking IDT.limit - a real-mode int3 would just jump to 0000:0000. In
 * protected mode the fault chain is the same on hardware and in the emulator.
 */
        .include "rom16.inc"

        .set    CODE32_SEL, 0x08    /* GDT entry 1 */

        .globl  _start
_start:
        rom_init
        com1_init
        com1_puts msg
        lidt    null_idt            /* IDTR := {limit 0, base 0}; DS = CS */
        lgdt    gdt_desc
        mov     %cr0, %eax
        or      $1, %eax            /* CR0.PE */
        mov     %eax, %cr0
        /* Reload CS with the flat 32-bit code segment; the target is the
         * physical address of pm32 in the ROM's low alias (F000:x = 0xF0000+x). */
        ljmpl   $CODE32_SEL, $(ROM_LOW_BASE + pm32)

        .code32
pm32:
        ud2                         /* -> #UD -> #GP -> #DF -> triple fault */
        cli                         /* not reached */
        hlt
        .code16

msg:
        .asciz  "triple fault ahead\r\n"

        .balign 8
gdt:    .quad   0                   /* 0x00: null descriptor */
        .quad   0x00cf9b000000ffff  /* 0x08: code, base 0, limit 4 GiB, 32-bit, DPL 0 */
gdt_desc:                           /* pseudo-descriptors for lgdt / lidt */
        .word   gdt_desc - gdt - 1  /* limit */
        .long   ROM_LOW_BASE + gdt  /* linear base */
null_idt:
        .word   0                   /* limit 0: no vector fits */
        .long   0                   /* base 0 */
