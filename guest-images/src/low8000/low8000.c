/*
 * low8000 - a 32-bit Multiboot kernel linked at 0x8000 (see link.ld), for
 * the loaders' placement of their data around a kernel that low. It checks
 * what a harness's kernel relies on, and prints one line per fact on COM1:
 *
 *   low8000 start=0x8000 end=0x8xxx magic=ok
 *   cmdline <the Multiboot command line>
 *   module count=1 first="<first line of module 0>"     (with -initrd FILE)
 *   rsdp addr=0x000f.... area=bios rev=<n> oem="<6>" rsdt=0x... checksum=ok
 *   rsdt entries=<n> checksum=ok
 *   phys_bits=<n>                                       (CPUID 0x80000008)
 *   low8000 done
 *
 * The RSDP is searched only where PC firmware puts it, 0xE0000-0xFFFFF on
 * 16-byte boundaries (not the EBDA), as many small kernels search.
 * Command line: env=WORD  (module 0 must contain WORD), phys_bits=N (CPUID
 * must say N). Pass: 0x10 to port 0xf4; fail: "fail ..." and 0x11.
 */
#include <stdint.h>

#define COM1 0x3f8

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
};
struct mb_module {
    uint32_t start, end, string, reserved;
};

extern char __kernel_start[], __kernel_end[];

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc_(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (uint8_t)c);
}

static void puts_(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc_('\r');
        putc_(*s);
    }
}

static void putn(uint32_t v, int base)
{
    char buf[12];
    int i = 0;
    do {
        buf[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (i)
        putc_(buf[--i]);
}

static void hex(uint32_t v) { puts_("0x"); putn(v, 16); }

static int failures;

static void failed(const char *what)
{
    puts_("fail ");
    puts_(what);
    puts_("\n");
    failures++;
}

static int starts_with(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++)
            return 0;
    return 1;
}

/* The value of " key=" in the command line, copied into out (a word); 0 if absent. */
static int cmdline_value(const char *cmdline, const char *key, char *out, int max)
{
    for (const char *p = cmdline; *p; p++) {
        if ((p == cmdline || p[-1] == ' ') && starts_with(p, key)) {
            const char *v = p;
            while (*key++)
                v++;
            int n = 0;
            while (*v && *v != ' ' && n < max - 1)
                out[n++] = *v++;
            out[n] = 0;
            return 1;
        }
    }
    return 0;
}

static uint32_t parse_dec(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

static int contains(const char *hay, uint32_t len, const char *needle)
{
    for (uint32_t i = 0; i < len; i++) {
        uint32_t j = 0;
        while (needle[j] && i + j < len && hay[i + j] == needle[j])
            j++;
        if (!needle[j])
            return 1;
    }
    return 0;
}

static uint8_t sum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

static void rsdp_search(void)
{
    for (uint32_t a = 0xe0000; a < 0x100000; a += 16) {
        const uint8_t *p = (const uint8_t *)a;
        if (!starts_with((const char *)p, "RSD PTR "))
            continue;
        if (sum(p, 20) != 0)
            continue;
        uint8_t rev = p[15];
        uint32_t rsdt = *(const uint32_t *)(p + 16);
        puts_("rsdp addr=");
        hex(a);
        puts_(" area=bios rev=");
        putn(rev, 10);
        puts_(" oem=\"");
        for (int i = 9; i < 15; i++)
            putc_((char)p[i]);
        puts_("\" rsdt=");
        hex(rsdt);
        int ext_ok = rev < 2 || sum(p, *(const uint32_t *)(p + 20)) == 0;
        puts_(ext_ok ? " checksum=ok\n" : " checksum=BAD\n");
        if (!ext_ok)
            failed("rsdp extended checksum");
        const uint8_t *t = (const uint8_t *)rsdt;
        uint32_t len = *(const uint32_t *)(t + 4);
        if (!starts_with((const char *)t, "RSDT") || len < 36 || len > 4096) {
            failed("rsdt: no RSDT where the RSDP points");
            return;
        }
        puts_("rsdt entries=");
        putn((len - 36) / 4, 10);
        puts_(sum(t, len) == 0 ? " checksum=ok\n" : " checksum=BAD\n");
        if (sum(t, len) != 0)
            failed("rsdt checksum");
        return;
    }
    puts_("rsdp none in 0xe0000-0xfffff\n");
    failed("no RSDP in the BIOS area 0xe0000-0xfffff");
}

static uint32_t cpuid_eax(uint32_t leaf)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(0));
    return a;
}

void main32(uint32_t magic, const struct mb_info *mbi)
{
    outb(COM1 + 1, 0x00);           /* 115200 8N1, FIFOs on, DTR+RTS+OUT2 */
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0xc7);
    outb(COM1 + 4, 0x0b);

    puts_("low8000 start=");
    hex((uint32_t)__kernel_start);
    puts_(" end=");
    hex((uint32_t)__kernel_end);
    puts_(magic == 0x2BADB002 ? " magic=ok\n" : " magic=BAD\n");
    if (magic != 0x2BADB002) {
        failed("bad multiboot magic");
        outb(0xf4, 0x11);
        return;
    }
    const char *cmdline = (mbi->flags & 4) ? (const char *)mbi->cmdline : "";
    puts_("cmdline ");
    puts_(cmdline);
    puts_("\n");

    char want[64];
    if (cmdline_value(cmdline, "env=", want, sizeof want)) {
        if (!(mbi->flags & 8) || mbi->mods_count == 0) {
            failed("env: no Multiboot module (-initrd FILE)");
        } else {
            const struct mb_module *m = (const struct mb_module *)mbi->mods_addr;
            const char *text = (const char *)m->start;
            uint32_t len = m->end - m->start;
            puts_("module count=");
            putn(mbi->mods_count, 10);
            puts_(" first=\"");
            for (uint32_t i = 0; i < len && text[i] != '\n' && i < 60; i++)
                putc_(text[i]);
            puts_("\"\n");
            if (!contains(text, len, want))
                failed("env: module 0 lacks the word env= asks for");
        }
    }

    rsdp_search();

    uint32_t phys = cpuid_eax(0x80000000) >= 0x80000008 ? (cpuid_eax(0x80000008) & 0xff) : 36;
    puts_("phys_bits=");
    putn(phys, 10);
    puts_("\n");
    char pb[12];
    if (cmdline_value(cmdline, "phys_bits=", pb, sizeof pb) && parse_dec(pb) != phys)
        failed("phys_bits: CPUID 0x80000008 differs from phys_bits=");

    puts_("low8000 done\n");
    outb(0xf4, failures ? 0x11 : 0x10);
}
