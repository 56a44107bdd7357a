/*
 * legacy-probe - the legacy ROM area 0xC0000-0xFFFFF as an OS's boot-time scans
 * read it, from a kernel the loader started (no firmware ran before it):
 *
 *   block c0000 zero=0400 ones=0000 fnv=xxxxxxxx write=kept     (16 lines, 16 KiB each)
 *   rom at=0xc0000 size=0x...                                    (each option ROM found)
 *   roms found=<n>
 *   rsdp at=0x...                                                (each "RSD PTR " in 0xe0000-0xfffff)
 *   mp at=0x...                                                  (each "_MP_" in 0xf0000-0xfffff)
 *   smbios at=0x... anchor=_SM_                                  (each "_SM_"/"_SM3_" there)
 *   scan paragraphs=16384 tsc=<cycles>
 *   legacy-probe done
 *
 * The block lines are legacy-scan.rom's, computed the same way (one dword from
 * every 16-byte paragraph: zeros, all ones, FNV-1a over the dwords; then the
 * inverted dword stored into the block's first paragraph: kept when the guest
 * still reads the old one, changed (and put back) when not). The ROM probe is
 * Linux's (probe_roms: a 0x55 0xaa header every 2 KiB from 0xc0000 to
 * 0xf0000, size in 512-byte units at +2). The signature scans step by 16 bytes.
 * Exits with EXIT_PASS.
 */
#include "kernel.h"

#define AREA_START 0xc0000ull
#define AREA_END 0x100000ull
#define BLOCK 0x4000ull
#define PARAGRAPH 16ull
#define FNV_BASIS 0x811c9dc5u
#define FNV_PRIME 0x01000193u

static uint32_t peek32(uint64_t addr)
{
    return *(volatile uint32_t *)addr;
}

static uint8_t peek8(uint64_t addr)
{
    return *(volatile uint8_t *)addr;
}

static bool signature(uint64_t addr, const char *sig)
{
    for (size_t i = 0; sig[i]; i++)
        if (peek8(addr + i) != (uint8_t)sig[i])
            return false;
    return true;
}

static void scan_blocks(void)
{
    for (uint64_t block = AREA_START; block < AREA_END; block += BLOCK) {
        uint32_t zero = 0, ones = 0, fnv = FNV_BASIS;
        for (uint64_t p = block; p < block + BLOCK; p += PARAGRAPH) {
            uint32_t v = peek32(p);
            zero += v == 0;
            ones += v == 0xffffffffu;
            fnv = (fnv ^ v) * FNV_PRIME;
        }
        volatile uint32_t *first = (volatile uint32_t *)block;
        uint32_t old = *first;
        *first = ~old;
        bool kept = *first == old;
        if (!kept)
            *first = old;
        kprintf("block %05lx zero=%04x ones=%04x fnv=%08x write=%s\n", block, zero, ones, fnv,
                kept ? "kept" : "changed");
    }
}

static void probe_roms(void)
{
    unsigned found = 0;
    for (uint64_t at = AREA_START; at < 0xf0000; at += 2048) {
        if (peek8(at) == 0x55 && peek8(at + 1) == 0xaa) {
            kprintf("rom at=0x%05lx size=0x%x\n", at, peek8(at + 2) * 512u);
            found++;
        }
    }
    kprintf("roms found=%u\n", found);
}

static void scan_signatures(void)
{
    for (uint64_t at = 0xe0000; at < AREA_END; at += PARAGRAPH)
        if (signature(at, "RSD PTR "))
            kprintf("rsdp at=0x%05lx\n", at);
    for (uint64_t at = 0xf0000; at < AREA_END; at += PARAGRAPH) {
        if (signature(at, "_MP_"))
            kprintf("mp at=0x%05lx\n", at);
        if (signature(at, "_SM_"))
            kprintf("smbios at=0x%05lx anchor=_SM_\n", at);
        if (signature(at, "_SM3_"))
            kprintf("smbios at=0x%05lx anchor=_SM3_\n", at);
    }
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    uint64_t t0 = rdtsc();
    scan_blocks();
    uint64_t t1 = rdtsc();
    probe_roms();
    scan_signatures();
    kprintf("scan paragraphs=%lu tsc=%lu\n", (uint64_t)((AREA_END - AREA_START) / PARAGRAPH), t1 - t0);
    kprintf("legacy-probe done\n");
    return 0;
}
