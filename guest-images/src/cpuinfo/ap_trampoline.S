/*
 * ap_trampoline.S - where an application processor starts after
 * INIT-SIPI-SIPI. The BSP copies this blob to AP_TRAMPOLINE (0x8000, SIPI
 * vector 0x08), fills in ap_tramp_cr3 / _stack / _entry, and sends the
 * SIPIs. The AP starts in real mode at 0800:0000 and goes straight to long
 * mode (PAE, the BSP's page tables, EFER.LME, PE+PG at once), then calls
 * ap_tramp_entry on the stack ap_tramp_stack. Addresses inside the blob are
 * TRAMP + (label - ap_trampoline_start): it runs at a place it is not
 * linked at.
 */
#define TRAMP 0x8000
#define OFF(label) ((label) - ap_trampoline_start)

        .section .rodata
        .balign 16
        .globl  ap_trampoline_start, ap_trampoline_end
        .globl  ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry

        .code16
ap_trampoline_start:
        cli
        cld
        mov     %cs, %ax                /* 0x0800 */
        mov     %ax, %ds
        lgdtl   OFF(tramp_gdtr)
        mov     %cr4, %eax
        or      $0x20, %eax             /* PAE */
        mov     %eax, %cr4
        mov     OFF(ap_tramp_cr3), %eax
        mov     %eax, %cr3
        mov     $0xC0000080, %ecx       /* IA32_EFER */
        rdmsr
        or      $0x100, %eax            /* LME */
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       /* PG | PE */
        and     $0x9fffffff, %eax       /* caches on */
        mov     %eax, %cr0
        ljmpl   $0x08, $(TRAMP + OFF(tramp64))

        .code64
tramp64:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     TRAMP + OFF(ap_tramp_stack), %rsp
        mov     TRAMP + OFF(ap_tramp_entry), %rax
        xor     %ebp, %ebp
        call    *%rax
1:      cli
        hlt
        jmp     1b

        .balign 8
tramp_gdt:
        .quad   0
        .quad   0x00af9b000000ffff      /* 0x08: 64-bit code */
        .quad   0x00cf93000000ffff      /* 0x10: data */
tramp_gdt_end:
tramp_gdtr:
        .word   tramp_gdt_end - tramp_gdt - 1
        .long   TRAMP + OFF(tramp_gdt)
        .balign 8
ap_tramp_cr3:
        .quad   0
ap_tramp_stack:
        .quad   0
ap_tramp_entry:
        .quad   0
ap_trampoline_end:
