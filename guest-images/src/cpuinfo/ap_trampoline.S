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
#include "long_mode_blob.inc"

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
        enter_long_mode TRAMP, ap_trampoline_start, tramp_gdtr, ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry

        long_mode_gdt TRAMP, ap_trampoline_start, tramp
        .balign 8
ap_tramp_cr3:
        .quad   0
ap_tramp_stack:
        .quad   0
ap_tramp_entry:
        .quad   0
ap_trampoline_end:
