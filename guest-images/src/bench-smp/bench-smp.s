/*
 * bench-smp.rom - the overcommit workload of jkvm's benchmarks (benchmarks/, "overcommit"): every
 * vCPU loops for ever taking a spinlock, incrementing a shared counter, releasing the lock, doing a
 * little private work and counting its own progress. The host reads the counters from RAM over a
 * fixed interval; nothing ever exits to the VMM once the loop runs.
 *
 * RAM layout (all zero at power-on):
 *   0x9000  u32  the spinlock (0 free, 1 taken)
 *   0x9004  u32  the shared counter, incremented under the lock
 *   0x9008  u32  the next vCPU number to hand out (lock xadd)
 *   0x9040 + 64 * i  u32  progress of vCPU number i (one cache line each), i < 64
 *
 * Start-up: the bootstrap processor enters flat 32-bit protected mode (real-mode code may be
 * instruction-emulated by KVM, see bench-exits.s), software-enables its local APIC and sends
 * INIT, SIPI, SIPI to all other processors through the ICR at 0xFEE00300 (so the machine needs an
 * in-kernel irqchip; a one-vCPU machine sends them to nobody). The SIPI vector is 0xF1: the
 * application processors start in real mode at F100:0000 = physical 0xF1000, which is ROM offset
 * 0x1000 in its alias below 1 MiB; from there they take the same way into protected mode.
 */
        .include "rom16.inc"

        .set    LOCK,      0x9000
        .set    SHARED,    0x9004
        .set    NEXT_ID,   0x9008
        .set    PROGRESS,  0x9040
        .set    PRIVATE_WORK, 20            /* iterations of private work per lock round: the lock stays hot */

        .set    APIC_BASE, 0xfee00000
        .set    APIC_SVR,  APIC_BASE + 0xf0
        .set    APIC_ICR_LO, APIC_BASE + 0x300
        .set    APIC_ICR_HI, APIC_BASE + 0x310
        .set    ICR_INIT_ALL_BUT_SELF, 0x000c4500   /* shorthand 11, level assert, INIT */
        .set    ICR_SIPI_ALL_BUT_SELF, 0x000c4600   /* shorthand 11, level assert, start-up */
        .set    AP_OFFSET, 0x1000                  /* ROM offset of the AP entry (4 KiB aligned) */
        .set    SIPI_VECTOR, (ROM_LOW_BASE + AP_OFFSET) >> 12

        .set    CODE32_SEL, 0x08
        .set    DATA32_SEL, 0x10

/* Loads the flat data segments (no stack needed). */
        .macro  flat_segments
        mov     $DATA32_SEL, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        .endm

        .globl  _start
_start:
        cli
        lgdtl   %cs:gdt_desc
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   $CODE32_SEL, $(ROM_LOW_BASE + bsp32)

        .code32
bsp32:
        flat_segments
        movl    $0x1ff, APIC_SVR            /* APIC software-enabled, spurious vector 0xff */
        movl    $0, APIC_ICR_HI
        movl    $ICR_INIT_ALL_BUT_SELF, APIC_ICR_LO
        movl    $(ICR_SIPI_ALL_BUT_SELF | SIPI_VECTOR), APIC_ICR_LO
        movl    $(ICR_SIPI_ALL_BUT_SELF | SIPI_VECTOR), APIC_ICR_LO
        jmp     worker
        .code16

        .code32
/* Every vCPU, the bootstrap one included, ends up here for ever. */
worker:
        mov     $1, %eax
        lock xadd %eax, NEXT_ID             /* EAX = this vCPU's number */
        and     $63, %eax
        shl     $6, %eax
        lea     PROGRESS(%eax), %edi        /* EDI = this vCPU's progress counter */
round:
        mov     $1, %eax
        xchg    %eax, LOCK                  /* xchg with memory is locked */
        test    %eax, %eax
        jz      locked
spin:
        pause
        cmpl    $0, LOCK
        jne     spin
        jmp     round
locked:
        incl    SHARED
        movl    $0, LOCK                    /* release: a plain store is enough on x86 */
        mov     $PRIVATE_WORK, %ecx
        mov     %ecx, %edx
work:
        imul    $31, %edx, %edx
        add     %ecx, %edx
        dec     %ecx
        jnz     work
        incl    (%edi)
        jmp     round
        .code16

        .balign 8
gdt:    .quad   0
        .quad   0x00cf9b000000ffff          /* 0x08: flat 32-bit code, accessed */
        .quad   0x00cf93000000ffff          /* 0x10: flat 32-bit data, accessed */
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   ROM_LOW_BASE + gdt

/* Application processors start here in real mode, CS = 0xF100, IP = 0. */
        .org    AP_OFFSET, 0xff
ap_entry:
        cli
        ljmp    $0xf000, $ap_real           /* CS := F000 so that ROM offsets are CS offsets */
ap_real:
        lgdtl   %cs:gdt_desc
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   $CODE32_SEL, $(ROM_LOW_BASE + ap32)

        .code32
ap32:
        flat_segments
        jmp     worker
        .code16
