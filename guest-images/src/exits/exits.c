/*
 * exits - causes a requested number of VM exits of one kind, for tests of
 * the VMM's exit handling and run control. Command line (all optional; the
 * operations run in this order):
 *   out=N port=P [value=V]    N x outb V (default 0) to port P
 *   in=N port=P               N x inb from port P
 *   cpuid=N [leaf=L]          N x cpuid (leaf default 0)
 *   mmio=N addr=A [value=V]   N x 4-byte write of V to physical address A
 *                             (mapped uncached on demand)
 *   hlt=N                     N x hlt with interrupts off
 *   spin_after_print=1        print "spinning", then loop forever
 *   spin=1                    loop forever without a word
 * One line per operation, then "exits done" and EXIT_PASS.
 */
#include "kernel.h"

static uint16_t port_arg(void)
{
    if (!cmdline_get("port"))
        fail("cmdline: out= and in= need port=");
    uint64_t port = cmdline_u64("port", 0);
    if (port > 0xffff)
        fail("cmdline port=0x%lx is not an I/O port", port);
    return (uint16_t)port;
}

static NORETURN void spin_forever(void)
{
    /* No exits at all: the VMM has to kick the vCPU out to stop it. */
    for (;;)
        pause();
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    uint64_t value = cmdline_u64("value", 0);

    uint64_t n = cmdline_u64("out", 0);
    if (n) {
        uint16_t port = port_arg();
        for (uint64_t i = 0; i < n; i++)
            outb(port, (uint8_t)value);
        kprintf("out count=%lu port=0x%x value=0x%x\n", n, port, (uint8_t)value);
    }

    n = cmdline_u64("in", 0);
    if (n) {
        uint16_t port = port_arg();
        uint8_t last = 0;
        for (uint64_t i = 0; i < n; i++)
            last = inb(port);
        kprintf("in count=%lu port=0x%x last=0x%x\n", n, port, last);
    }

    n = cmdline_u64("cpuid", 0);
    if (n) {
        uint32_t leaf = (uint32_t)cmdline_u64("leaf", 0);
        struct cpuid_regs r = { 0 };
        for (uint64_t i = 0; i < n; i++)
            r = cpuid(leaf, 0);
        kprintf("cpuid count=%lu leaf=0x%x eax=0x%x\n", n, leaf, r.eax);
    }

    n = cmdline_u64("mmio", 0);
    if (n) {
        if (!cmdline_get("addr"))
            fail("cmdline: mmio= needs addr=");
        uint64_t addr = cmdline_u64("addr", 0);
        if (addr & 3)
            fail("cmdline addr=0x%lx is not 4-byte aligned", addr);
        paging_map_identity(addr, 4, true);
        for (uint64_t i = 0; i < n; i++)
            mmio_write32(addr, (uint32_t)value);
        kprintf("mmio count=%lu addr=0x%lx value=0x%x\n", n, addr, (uint32_t)value);
    }

    n = cmdline_u64("hlt", 0);
    if (n) {
        cli();
        for (uint64_t i = 0; i < n; i++)
            hlt();
        kprintf("hlt count=%lu\n", n);
    }

    if (cmdline_flag("spin_after_print")) {
        kprintf("spinning\n");
        spin_forever();
    }
    if (cmdline_flag("spin"))
        spin_forever();

    kprintf("exits done\n");
    return 0;
}
