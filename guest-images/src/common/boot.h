/*
 * boot.h - what the boot code hands to the C side: the Multiboot v1 info
 * (copied into the kernel's own memory by kinit, so the loader's copy may be
 * overwritten), the kernel command line, the kernel's extent, a page
 * allocator and the identity map.
 */
#ifndef JKVM_BOOT_H
#define JKVM_BOOT_H

#include "x86.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_INFO_MEM     (1u << 0)   /* mem_lower / mem_upper valid */
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)

#define BOOT_MMAP_MAX    128
#define BOOT_CMDLINE_MAX 1024

/* One entry of the BIOS-style (e820) memory map: type 1 = usable RAM. */
struct mem_range {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

struct boot_info {
    uint32_t mbinfo_addr;        /* where the loader put the Multiboot info */
    uint32_t flags;              /* Multiboot info flags */
    uint32_t mem_lower_kib;      /* valid with MB_INFO_MEM */
    uint32_t mem_upper_kib;
    char cmdline[BOOT_CMDLINE_MAX];   /* "" without MB_INFO_CMDLINE */
    uint32_t mmap_count;
    bool mmap_truncated;         /* the loader's map had more than BOOT_MMAP_MAX entries */
    struct mem_range mmap[BOOT_MMAP_MAX];
};

/* The copy made by kinit. */
const struct boot_info *boot_info(void);

/* Called by the entry code before kmain: console, IDT, Multiboot copy, cmdline. */
void kinit(uint32_t mbinfo);
/* Each kernel's main function; 0 = pass, anything else = fail. */
int kmain(uint32_t mbinfo);

/* --- command line: space-separated key=value words ---------------------------
 * QEMU passes "<kernel path> <-append text>"; words without '=' are ignored. */
void cmdline_init(const char *text);
/* The value of key (NUL-terminated), "" for a bare "key=", NULL if absent. */
const char *cmdline_get(const char *key);
/* The value as a number (decimal or 0x hex); fails the run on garbage. */
uint64_t cmdline_u64(const char *key, uint64_t dflt);
/* True when key is present with a value other than "0". */
bool cmdline_flag(const char *key);

/* --- the kernel's memory ------------------------------------------------------ */
extern char __kernel_start[], __kernel_end[];
/* Zeroed, page-aligned pages from just above the kernel image (never freed). */
void *kalloc_pages(size_t count);
/* The end of the memory the kernel uses: image, stacks, page tables and all
 * kalloc_pages allocations lie in [__kernel_start, kalloc_top()). */
uint64_t kalloc_top(void);

/* --- paging: the entry code identity-maps 0 .. IDENTITY_LIMIT with 2 MiB pages
 * (3-4 GiB uncached, for the APICs and other MMIO). */
#define IDENTITY_LIMIT (64ull << 30)
/* Makes [phys, phys+len) identity-mapped (2 MiB pages), allocating page
 * tables as needed; `uncached` sets PCD|PWT on pages it creates. */
void paging_map_identity(uint64_t phys, uint64_t len, bool uncached);

#endif
