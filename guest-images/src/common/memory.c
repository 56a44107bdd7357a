/*
 * memory.c - the page allocator above the kernel image and on-demand
 * identity mappings beyond what entry.S set up.
 */
#include "kernel.h"

#define PAGE 4096ull
#define LARGE (2ull << 20)
#define PTE_P   0x01ull
#define PTE_W   0x02ull
#define PTE_PWT 0x08ull
#define PTE_PCD 0x10ull
#define PTE_PS  0x80ull
#define ADDR_MASK 0x000ffffffffff000ull

static uint64_t next_free;

void *kalloc_pages(size_t count)
{
    if (!next_free)
        next_free = ((uint64_t)__kernel_end + PAGE - 1) & ~(PAGE - 1);
    void *p = (void *)next_free;
    next_free += count * PAGE;
    memset(p, 0, count * PAGE);
    return p;
}

uint64_t kalloc_top(void)
{
    if (!next_free)
        next_free = ((uint64_t)__kernel_end + PAGE - 1) & ~(PAGE - 1);
    return next_free;
}

/* The next-level table behind entry `e`, created if missing. */
static uint64_t *table_behind(uint64_t *e)
{
    if (!(*e & PTE_P))
        *e = (uint64_t)kalloc_pages(1) | PTE_P | PTE_W;
    return (uint64_t *)(*e & ADDR_MASK);
}

/* Physical address width (CPUID 0x80000008 EAX[7:0]); 36 if not reported. */
static unsigned phys_addr_bits(void)
{
    if (cpuid(0x80000000, 0).eax >= 0x80000008)
        return cpuid(0x80000008, 0).eax & 0xff;
    return 36;
}

void paging_map_identity(uint64_t phys, uint64_t len, bool uncached)
{
    unsigned bits = phys_addr_bits();
    if (phys + len < phys || phys + len > (1ull << bits))
        fail("cannot map 0x%lx+0x%lx: beyond the %u-bit physical address space", phys, len, bits);
    uint64_t *pml4 = (uint64_t *)(read_cr3() & ADDR_MASK);
    uint64_t end = phys + len;
    for (uint64_t a = phys & ~(LARGE - 1); a < end; a += LARGE) {
        uint64_t *pdpt = table_behind(&pml4[(a >> 39) & 511]);
        uint64_t *pd = table_behind(&pdpt[(a >> 30) & 511]);
        uint64_t *pde = &pd[(a >> 21) & 511];
        if (*pde & PTE_P)
            continue;   /* already mapped (entry.S or an earlier call) */
        *pde = a | PTE_P | PTE_W | PTE_PS | (uncached ? PTE_PCD | PTE_PWT : 0);
        invlpg(a);
    }
}
