/*
 * meminfo - what the loader says about memory, and whether that memory works.
 *
 * Prints the Multiboot memory information, the command line, CR3 and the
 * address and value of a global variable; then writes a pattern to every
 * 4 KiB page of usable RAM (type-1 ranges minus the kernel's own memory,
 * mapping RAM above the identity map on demand), reads it back and prints
 * the result. With poke=1 it then adds one to the variable (a write for a
 * debugger's watchpoint) and prints "var poked value=...". With wait=N it
 * then watches the variable for N seconds.
 * Command line: step=N tests only every Nth page (physical page number
 * divisible by N; default 1 = every page) - for big guests on hosts where
 * each first touch of a page is expensive; wait=N as above.
 * See README.md for the exact lines.
 */
#include "kernel.h"

#define PAGE 4096ull
#define PATTERN 0x5a5a5a5a5a5a5a5aull
#define MAX_MISMATCH_LINES 8

/* The word at offset o of page p holds (p + o) ^ PATTERN, for o in offsets. */
static const uint64_t offsets[] = { 0, 0x7f8, 0xff8 };

/* The variable a test can read (and change) through the VMM. */
volatile uint64_t watched_var = 0x6a6b766d2d766172ull;   /* "jkvm-var" */

struct ram_check {
    uint64_t step;
    uint64_t pages, bytes, pages_above_4g, mismatches;
};

static void print_map(const struct boot_info *bi)
{
    if (bi->flags & MB_INFO_MEM)
        kprintf("mem lower=%u upper=%u\n", bi->mem_lower_kib, bi->mem_upper_kib);
    else
        kprintf("mem none\n");
    if (!(bi->flags & MB_INFO_MMAP))
        kprintf("e820 none\n");
    for (uint32_t i = 0; i < bi->mmap_count; i++)
        kprintf("e820 base=0x%lx len=0x%lx type=%u\n", bi->mmap[i].base, bi->mmap[i].len,
                bi->mmap[i].type);
    if (bi->mmap_truncated)
        kprintf("e820 truncated at %u entries\n", BOOT_MMAP_MAX);
    kprintf("cmdline %s\n", bi->cmdline);
}

/* Calls fn(page) for every whole usable page outside [skip_lo, skip_hi)
 * whose page number is a multiple of c->step. */
static void for_each_page(const struct boot_info *bi, uint64_t skip_lo, uint64_t skip_hi,
                          void (*fn)(uint64_t page, struct ram_check *c), struct ram_check *c)
{
    uint64_t stride = c->step * PAGE;
    for (uint32_t i = 0; i < bi->mmap_count; i++) {
        const struct mem_range *r = &bi->mmap[i];
        if (r->type != 1)
            continue;
        uint64_t end = (r->base + r->len) & ~(PAGE - 1);
        uint64_t p = (r->base + stride - 1) / stride * stride;   /* first multiple of stride */
        for (; p < end; p += stride) {
            if (p >= skip_lo && p < skip_hi) {
                /* jump to the first multiple of stride at or above skip_hi */
                p = (skip_hi + stride - 1) / stride * stride - stride;
                continue;
            }
            fn(p, c);
        }
    }
}

static void write_page(uint64_t page, struct ram_check *c)
{
    (void)c;
    for (unsigned i = 0; i < ARRAY_SIZE(offsets); i++)
        *(volatile uint64_t *)(page + offsets[i]) = (page + offsets[i]) ^ PATTERN;
}

static void verify_page(uint64_t page, struct ram_check *c)
{
    for (unsigned i = 0; i < ARRAY_SIZE(offsets); i++) {
        uint64_t addr = page + offsets[i];
        uint64_t got = *(volatile uint64_t *)addr;
        uint64_t want = addr ^ PATTERN;
        if (got != want) {
            if (c->mismatches < MAX_MISMATCH_LINES)
                kprintf("mismatch at 0x%lx expected=0x%lx got=0x%lx\n", addr, want, got);
            c->mismatches++;
        }
    }
    c->pages++;
    c->bytes += PAGE;
    if (page >= (4ull << 30))
        c->pages_above_4g++;
}

/* RAM beyond the boot-time identity map gets mapped before the test. */
static void map_all_ram(const struct boot_info *bi)
{
    for (uint32_t i = 0; i < bi->mmap_count; i++) {
        const struct mem_range *r = &bi->mmap[i];
        if (r->type == 1 && r->base + r->len > IDENTITY_LIMIT) {
            uint64_t base = r->base > IDENTITY_LIMIT ? r->base : IDENTITY_LIMIT;
            paging_map_identity(base, r->base + r->len - base, false);
        }
    }
}

static void watch_var(uint64_t seconds)
{
    uint64_t initial = watched_var;
    kprintf("waiting seconds=%lu\n", seconds);
    rtc_wait_second_edge();
    for (uint64_t elapsed = 0; elapsed < seconds; elapsed++) {
        unsigned s = rtc_seconds();
        while (rtc_seconds() == s) {
            if (watched_var != initial) {
                kprintf("var changed value=0x%lx\n", watched_var);
                return;
            }
            pause();
        }
    }
    kprintf("var unchanged value=0x%lx\n", watched_var);
}

/* One write to watched_var (cmdline poke=1), in a function of its own so a debugger can stop
 * just before it and watch the variable change. */
static void __attribute__((noinline)) poke_var(void)
{
    watched_var = watched_var + 1;
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    const struct boot_info *bi = boot_info();
    print_map(bi);
    kprintf("cr3 value=0x%lx\n", read_cr3());
    kprintf("var addr=0x%lx value=0x%lx\n", (uint64_t)&watched_var, watched_var);
    struct boot_info fallback;
    if (!(bi->flags & MB_INFO_MMAP)) {
        /* Only mem_lower / mem_upper: RAM is [0, lower) and [1 MiB, 1 MiB + upper). */
        if (!(bi->flags & MB_INFO_MEM))
            fail("no memory information from the loader");
        fallback = *bi;
        fallback.mmap_count = 2;
        fallback.mmap[0] = (struct mem_range){ 0, (uint64_t)bi->mem_lower_kib << 10, 1 };
        fallback.mmap[1] = (struct mem_range){ 1ull << 20, (uint64_t)bi->mem_upper_kib << 10, 1 };
        bi = &fallback;
        kprintf("e820 from mem_lower/mem_upper\n");
    }

    map_all_ram(bi);
    /* Everything the kernel uses, page tables made just above included. */
    uint64_t skip_lo = (uint64_t)__kernel_start & ~(PAGE - 1);
    uint64_t skip_hi = kalloc_top();
    kprintf("kernel start=0x%lx end=0x%lx\n", skip_lo, skip_hi);
    void print_totals(const struct boot_info *bi, uint64_t kernel_bytes);   /* totals.c */
    print_totals(bi, skip_hi - skip_lo);

    struct ram_check c = { .step = cmdline_u64("step", 1) };
    if (c.step == 0)
        fail("cmdline step=0: expected 1 or more");
    for_each_page(bi, skip_lo, skip_hi, write_page, &c);
    for_each_page(bi, skip_lo, skip_hi, verify_page, &c);
    kprintf("verified bytes=%lu pages=%lu above_4g_pages=%lu step=%lu\n", c.bytes, c.pages,
            c.pages_above_4g, c.step);
    if (c.mismatches)
        fail("memory mismatches=%lu", c.mismatches);

    if (cmdline_u64("poke", 0)) {
        poke_var();
        kprintf("var poked value=0x%lx\n", watched_var);
    }
    uint64_t wait = cmdline_u64("wait", 0);
    if (wait)
        watch_var(wait);
    kprintf("meminfo done\n");
    return 0;
}
