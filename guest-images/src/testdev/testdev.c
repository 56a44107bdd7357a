/*
 * testdev - QEMU's test devices from inside, as kvm-unit-tests' x86 tests use
 * them (run with -device pc-testdev -device pci-testdev). One line per check:
 *
 *   ports ok                       pc-testdev's scratch register at 0xe0 (every width,
 *                                  each lane) and its byte-split view at 0xe8
 *   flush ok                       a page named at 0xe4 keeps its contents
 *   iomem ok                       the 64 KiB window at 0xff000000: every width, odd
 *                                  alignments, string moves
 *   irq line=10 level repeated=1 quiet_after_lower=1 refired=1 quiet_again=1 ok
 *                                  0x200a raises ISA IRQ 10 (I/O APIC pin 10, level-
 *                                  triggered): while it stays high every EOI brings it
 *                                  back; lowered, it stays quiet; raised again, it fires
 *   pci 00:02.0 1b36:0005 class=0x00ff bar0=0x... bar1=0x...
 *   pci sizing bar0=0xfffff000 bar1=0xffffff01
 *   pci test <name> ok             each of pci-testdev's notify tests, MMIO then I/O
 *   pci tests=6
 *   env module="<first line>" ok   with env=WORD: Multiboot module 0 (-initrd FILE, a
 *                                  harness's environment file) contains WORD
 *   phys_bits=<n> ok               with phys_bits=N: CPUID 0x80000008 EAX[7:0] is N
 *   debugcon port=0x402 readback=0xe9 ok
 *                                  with debugcon=PORT: isa-debugcon reads back 0xe9 there;
 *                                  "testdev on debugcon" goes out through it
 *   testdev done
 *
 * A mismatch prints "mismatch <what> got=0x.. want=0x.." and the run fails.
 * Command line: skip=pci (or ports, flush, iomem, irq) leaves a part out.
 */
#include "kernel.h"
#include "apic.h"
#include "pic.h"

#define IOMEM 0xff000000ull
#define IRQ_LINE 10
#define IRQ_VECTOR 0x4a

static int mismatches;

static void expect(const char *what, uint64_t got, uint64_t want)
{
    if (got != want) {
        mismatches++;
        kprintf("mismatch %s got=0x%lx want=0x%lx\n", what, (unsigned long)got, (unsigned long)want);
    }
}

static bool skipped(const char *part)
{
    const char *s = cmdline_get("skip");
    return s && strcmp(s, part) == 0;
}

static void ports(void)
{
    int before = mismatches;
    outl(0xe0, 0x11223344);
    expect("inl 0xe0", inl(0xe0), 0x11223344);
    expect("inb 0xe1", inb(0xe1), 0x33);
    expect("inw 0xe2", inw(0xe2), 0x1122);
    expect("inb 0xe3", inb(0xe3), 0x11);
    outb(0xe1, 0xaa);
    expect("inl after outb 0xe1", inl(0xe0), 0x1122aa44);
    outw(0xe2, 0xbeef);
    expect("inl after outw 0xe2", inl(0xe0), 0xbeefaa44);
    outl(0xe8, 0xdeadbeef);
    expect("inl 0xe0 after outl 0xe8", inl(0xe0), 0xdeadbeef);
    expect("inl 0xe8", inl(0xe8), 0xdeadbeef);
    expect("inw 0xea", inw(0xea), 0xdead);
    outb(0xe9, 0x01);
    expect("inb 0xe9", inb(0xe9), 0x01);
    expect("inl 0xe0 after outb 0xe9", inl(0xe0), 0xdead01ef);
    if (mismatches == before)
        kprintf("ports ok\n");
}

static uint8_t flush_page[4096] __attribute__((aligned(4096)));

static void flush(void)
{
    int before = mismatches;
    for (int i = 0; i < 4096; i++)
        flush_page[i] = (uint8_t)(i * 7 + 3);
    outl(0xe4, (uint32_t)(uintptr_t)flush_page);
    for (int i = 0; i < 4096; i += 511)
        expect("flushed page byte", flush_page[i], (uint8_t)(i * 7 + 3));
    flush_page[100] = 0x5a;
    expect("write after flush", flush_page[100], 0x5a);
    if (mismatches == before)
        kprintf("flush ok\n");
}

static void iomem(void)
{
    int before = mismatches;
    volatile uint8_t *b = (volatile uint8_t *)IOMEM;
    *(volatile uint64_t *)(b + 0) = 0x0807060504030201ull;
    expect("iomem u64", *(volatile uint64_t *)(b + 0), 0x0807060504030201ull);
    expect("iomem u32 +4", *(volatile uint32_t *)(b + 4), 0x08070605);
    expect("iomem u16 +2", *(volatile uint16_t *)(b + 2), 0x0403);
    expect("iomem u8 +7", b[7], 0x08);
    *(volatile uint32_t *)(b + 0x101) = 0xcafef00d;    /* odd alignment */
    expect("iomem u32 +0x101", *(volatile uint32_t *)(b + 0x101), 0xcafef00d);
    expect("iomem u8 +0x102", b[0x102], 0xf0);
    *(volatile uint16_t *)(b + 0xfffe) = 0x1234;        /* the window's last word */
    expect("iomem u16 +0xfffe", *(volatile uint16_t *)(b + 0xfffe), 0x1234);
    char src[32], dst[32];
    for (int i = 0; i < 32; i++)
        src[i] = (char)('A' + i);
    void *to = (void *)(IOMEM + 0x2000);
    void *from = src;
    size_t n = 32;
    __asm__ volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(n) :: "memory");
    to = dst;
    from = (void *)(IOMEM + 0x2000);
    n = 32;
    __asm__ volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(n) :: "memory");
    expect("iomem rep movsb", memcmp(src, dst, 32), 0);
    if (mismatches == before)
        kprintf("iomem ok\n");
}

static volatile int fired;

static void on_irq(struct int_frame *f)
{
    (void)f;
    fired++;
    lapic_eoi();
}

static void wait_for(int count)
{
    for (int i = 0; i < 2000000 && fired < count; i++)
        pause();
}

/*
 * Waits 10 ms by the PIT with interrupts on, then tells whether nothing arrived meanwhile. By
 * time, not by PAUSEs: under a nested KVM every PAUSE can be a VM exit (120,000 of them took
 * minutes there), and a line left high re-fires within microseconds of the EOI anyway.
 */
static bool quiet(void)
{
    pit_delay_us(1000);               /* one delivery may still have been in flight */
    int before = fired;
    pit_delay_us(10000);
    return fired == before;
}

static void irq(void)
{
    pic_remap(0x20, 0x28);
    pic_mask_all();
    lapic_enable();
    idt_set_handler(IRQ_VECTOR, on_irq);
    ioapic_route(IOAPIC_DEFAULT_BASE, IRQ_LINE, IRQ_VECTOR, lapic_id(), IOAPIC_LEVEL);
    sti();
    outb(0x2000 + IRQ_LINE, 1);       /* held high: re-delivered after each EOI */
    wait_for(3);
    bool repeated = fired >= 3;       /* an edge would have given one */
    outb(0x2000 + IRQ_LINE, 0);
    bool quiet_low = quiet();
    int before = fired;
    outb(0x2000 + IRQ_LINE, 1);       /* raised again */
    wait_for(before + 1);
    bool refired = fired > before;
    outb(0x2000 + IRQ_LINE, 0);
    bool quiet_again = quiet();
    cli();
    ioapic_mask(IOAPIC_DEFAULT_BASE, IRQ_LINE);
    kprintf("irq line=%d level repeated=%d quiet_after_lower=%d refired=%d quiet_again=%d%s\n", IRQ_LINE,
            repeated, quiet_low, refired, quiet_again, repeated && quiet_low && refired && quiet_again ? " ok" : "");
    expect("irq level-triggered line: repeated, quiet when low, fires again, quiet again",
           repeated << 3 | quiet_low << 2 | refired << 1 | quiet_again, 0xf);
}

static uint32_t pci_read(int dev, int reg)
{
    outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg);
    return inl(0xcfc);
}

static void pci_write(int dev, int reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)reg);
    outl(0xcfc, v);
}

/* One region's accessors, as kvm-unit-tests' pci_testdev_ops. */
struct region {
    bool io;
    uint64_t base;
};

static uint8_t rd8(const struct region *r, uint32_t off)
{
    return r->io ? inb((uint16_t)(r->base + off)) : *(volatile uint8_t *)(r->base + off);
}

static uint32_t rd32(const struct region *r, uint32_t off)
{
    return r->io ? inl((uint16_t)(r->base + off)) : *(volatile uint32_t *)(r->base + off);
}

static void wr8(const struct region *r, uint32_t off, uint8_t v)
{
    if (r->io)
        outb((uint16_t)(r->base + off), v);
    else
        *(volatile uint8_t *)(r->base + off) = v;
}

/* kvm-unit-tests' pci_testdev_one: true when the test ran and counted right. */
static bool pci_one(const struct region *r, int test)
{
    wr8(r, 0, (uint8_t)test);
    if (rd32(r, 12) != 0)
        return false;
    uint8_t width = rd8(r, 1);
    if (width != 1)
        return false;
    uint8_t data = (uint8_t)rd32(r, 8);
    uint32_t off = rd32(r, 4);
    for (int i = 0; i < 16; i++)
        wr8(r, off, data);
    uint32_t count = rd32(r, 12);
    return count == 0 || count == 16;  /* 0: QEMU handed the write to an ioeventfd */
}

static int pci_all(const struct region *r)
{
    int n;
    for (n = 0; pci_one(r, n); n++) {
        char name[40];
        int i;
        for (i = 0; i < 39 && (name[i] = (char)rd8(r, 16 + i)) != 0; i++)
            ;
        name[i] = 0;
        kprintf("pci test %s ok\n", name);
    }
    return n;
}

static void pci(void)
{
    int dev;
    for (dev = 0; dev < 32; dev++)
        if (pci_read(dev, 0) == 0x00051b36)
            break;
    if (dev == 32) {
        fail("pci no 1b36:0005 (pci-testdev) on bus 0");
    }
    uint32_t bar0 = pci_read(dev, 0x10), bar1 = pci_read(dev, 0x14);
    kprintf("pci 00:%02x.0 1b36:0005 class=0x%04x bar0=0x%x bar1=0x%x\n", dev, pci_read(dev, 8) >> 16, bar0, bar1);
    pci_write(dev, 0x10, 0xffffffff);
    pci_write(dev, 0x14, 0xffffffff);
    uint32_t size0 = pci_read(dev, 0x10), size1 = pci_read(dev, 0x14);
    pci_write(dev, 0x10, bar0);
    pci_write(dev, 0x14, bar1);
    kprintf("pci sizing bar0=0x%x bar1=0x%x\n", size0, size1);
    expect("pci bar0 size mask", size0, 0xfffff000);
    expect("pci bar1 size mask", size1, 0xffffff01);
    expect("pci bar0 restored", pci_read(dev, 0x10), bar0);
    struct region mem = { false, bar0 & ~0xfu };
    struct region io = { true, bar1 & ~0x3u };
    int tests = pci_all(&mem) + pci_all(&io);
    kprintf("pci tests=%d\n", tests);
    expect("pci tests", tests, 6);
}

struct mb_module {
    uint32_t start, end, string, reserved;
};

static void env(uint32_t mbinfo, const char *word)
{
    const uint32_t *mbi = (const uint32_t *)(uintptr_t)mbinfo;
    if (!(mbi[0] & (1u << 3)) || mbi[5] == 0)
        fail("env no Multiboot module (-initrd FILE)");
    const struct mb_module *m = (const struct mb_module *)(uintptr_t)mbi[6];
    const char *text = (const char *)(uintptr_t)m->start;
    size_t len = m->end - m->start, wl = strlen(word);
    char first[61];
    size_t i;
    for (i = 0; i < len && i < 60 && text[i] != '\n'; i++)
        first[i] = text[i];
    first[i] = 0;
    bool found = false;
    for (i = 0; i + wl <= len && !found; i++)
        found = memcmp(text + i, word, wl) == 0;
    kprintf("env module=\"%s\"%s\n", first, found ? " ok" : "");
    expect("env word found in module 0", found, 1);
}

int kmain(uint32_t mbinfo)
{
    const char *word = cmdline_get("env");
    if (word)
        env(mbinfo, word);  /* first: nothing has touched the module yet */
    uint64_t want_phys = cmdline_u64("phys_bits", 0);
    if (want_phys) {
        uint32_t phys = cpuid(0x80000000, 0).eax >= 0x80000008 ? (cpuid(0x80000008, 0).eax & 0xff) : 36;
        kprintf("phys_bits=%u%s\n", phys, phys == want_phys ? " ok" : "");
        expect("phys_bits (CPUID 0x80000008)", phys, want_phys);
    }
    uint64_t dc = cmdline_u64("debugcon", 0);
    if (dc) {
        uint8_t rb = inb((uint16_t)dc);
        kprintf("debugcon port=0x%x readback=0x%x%s\n", (unsigned)dc, rb, rb == 0xe9 ? " ok" : "");
        expect("debugcon readback", rb, 0xe9);
        for (const char *m = "testdev on debugcon\n"; *m; m++)
            outb((uint16_t)dc, (uint8_t)*m);
    }
    if (!skipped("ports"))
        ports();
    if (!skipped("flush"))
        flush();
    if (!skipped("iomem"))
        iomem();
    if (!skipped("irq"))
        irq();
    if (!skipped("pci"))
        pci();
    kprintf("testdev done\n");
    if (mismatches)
        fail("testdev mismatches=%d", mismatches);
    return 0;
}
