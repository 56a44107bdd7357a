/*
 * kinit.c - C-side start-up: console, IDT, and a private copy of the
 * Multiboot info (so a kernel may overwrite any RAM outside its own image).
 */
#include "kernel.h"

/* Multiboot v1 info, up to the memory-map fields. */
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct multiboot_mmap_entry {
    uint32_t size;      /* of the rest of the entry */
    uint64_t base;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));

static struct boot_info info;

const struct boot_info *boot_info(void)
{
    return &info;
}

static void copy_multiboot(uint32_t addr)
{
    info.mbinfo_addr = addr;
    const struct multiboot_info *mb = (const struct multiboot_info *)(uint64_t)addr;
    info.flags = mb->flags;
    if (mb->flags & MB_INFO_MEM) {
        info.mem_lower_kib = mb->mem_lower;
        info.mem_upper_kib = mb->mem_upper;
    }
    if (mb->flags & MB_INFO_CMDLINE) {
        const char *src = (const char *)(uint64_t)mb->cmdline;
        size_t n = 0;
        while (n + 1 < sizeof(info.cmdline) && src[n]) {
            info.cmdline[n] = src[n];
            n++;
        }
        info.cmdline[n] = '\0';
    }
    if (mb->flags & MB_INFO_MMAP) {
        uint64_t p = mb->mmap_addr, end = (uint64_t)mb->mmap_addr + mb->mmap_length;
        while (p + sizeof(struct multiboot_mmap_entry) <= end) {
            const struct multiboot_mmap_entry *e = (const struct multiboot_mmap_entry *)p;
            if (info.mmap_count == BOOT_MMAP_MAX) {
                info.mmap_truncated = true;
                break;
            }
            info.mmap[info.mmap_count++] = (struct mem_range){ e->base, e->len, e->type };
            p += (uint64_t)e->size + 4;
        }
    }
}

void kinit(uint32_t mbinfo)
{
    serial_init();
    idt_init();
    copy_multiboot(mbinfo);
    cmdline_init(info.cmdline);
}
