/*
 * hostile-paging - page tables no walker may follow to the end: PML4 entries
 * 1-511 all point back at the PML4 itself (recursive maps: under each the
 * whole tree repeats at every level, about 2^27 leaves), and PDPT entry 511
 * points at the PML4 too (a cycle one level down). The kernel's own mappings
 * (PML4[0]: 0-64 GiB with 2 MiB pages) stay intact, so
 * it keeps running: it prints "cyclic page tables ready cr3=0x..." and spins
 * with interrupts off and without exits until the VMM ends the run.
 */
#include "kernel.h"

extern uint64_t pml4[512], pdpt[512];

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    uint64_t self = (uint64_t)pml4;     /* identity-mapped: virtual == physical */
    for (int i = 1; i < 512; i++)
        pml4[i] = self | 0x3;           /* present, writable */
    pdpt[511] = self | 0x3;
    __asm__ volatile("mov %0, %%cr3" :: "r"(read_cr3()) : "memory"); /* flush the TLB */
    kprintf("cyclic page tables ready cr3=0x%lx\n", read_cr3());
    __asm__ volatile("cli");
    for (;;)
        __asm__ volatile("pause");
}
