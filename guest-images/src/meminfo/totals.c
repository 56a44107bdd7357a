/*
 * totals - the memory totals a Linux guest reports for the same e820 map, as the KVM chapter's
 * lab 3.1 compares them with -m (docs/labs.md): dmesg's "Memory: AVAILk/MAXk available" (MAX:
 * the end of the last usable page, Linux's max_pfn; AVAIL: usable RAM less the kernel's own
 * memory) and /proc/meminfo's "MemTotal:" (the same AVAIL; free -m shows it in MiB). Whole 4 KiB
 * pages of type-1 ranges, as Linux counts them; "absent" is what lies below MAX and is not RAM.
 * A file of its own, linked after meminfo.c, so that meminfo's functions keep their addresses
 * and lines (the README's GDB sessions show them).
 */
#include "kernel.h"

void print_totals(const struct boot_info *bi, uint64_t kernel_bytes)
{
    const uint64_t page = 4096;
    uint64_t usable = 0, max_end = 0;
    for (uint32_t i = 0; i < bi->mmap_count; i++) {
        const struct mem_range *r = &bi->mmap[i];
        if (r->type != 1)
            continue;
        uint64_t lo = (r->base + page - 1) & ~(page - 1), hi = (r->base + r->len) & ~(page - 1);
        if (hi <= lo)
            continue;
        usable += hi - lo;
        if (hi > max_end)
            max_end = hi;
    }
    uint64_t avail = usable > kernel_bytes ? usable - kernel_bytes : 0;
    kprintf("Memory: %luk/%luk available (%luk kernel, %luk absent)\n", avail >> 10, max_end >> 10,
            kernel_bytes >> 10, (max_end - usable) >> 10);
    kprintf("MemTotal: %lu kB\n", avail >> 10);
}
