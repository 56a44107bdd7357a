/*
 * ticks - counts PIT interrupts (IRQ 0) over whole RTC seconds.
 * Command line: hz=<rate, default 100> seconds=<default 2> via=<pic|ioapic>.
 * Programs PIT channel 0 (mode 2) at hz, routes IRQ 0, waits for an RTC
 * seconds edge, counts IRQ 0 until `seconds` more edges (the RTC is looked
 * at once per interrupt, in sti; hlt: no IRQ 0 at all means no end), prints
 *   irq 0 via=...                  (the route, see irq.h)
 *   ticks irq0=<n> seconds=<s> hz=<hz> via=<pic|ioapic>
 * and passes if n > 0 (how close n is to s*hz is the test's judgement).
 * With beats=N it first counts its own time aloud: at each of N RTC seconds
 * edges it prints
 *   beat <i> irq0=<ticks so far> rtc=<seconds of the minute>
 * so a test that stops and continues the VM sees from the guest's side that
 * no beat came while it was stopped and that the count went on after.
 */
#include "kernel.h"

static volatile uint64_t irq0_count;

static void on_tick(struct int_frame *f)
{
    (void)f;
    irq0_count++;
}

/* Waits for the next RTC seconds edge, looking once per interrupt: a tight
 * loop of CMOS reads would compete with the VMM's timer work (under QEMU TCG
 * it starves the PIT and ticks get lost). */
static void wait_edge_between_ticks(void)
{
    unsigned s = rtc_seconds();
    while (rtc_seconds() == s)
        sti_hlt();
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    uint64_t hz = cmdline_u64("hz", 100);
    uint64_t seconds = cmdline_u64("seconds", 2);
    if (hz < 19 || hz > 100000)
        fail("cmdline hz=%lu: expected 19..100000", hz);
    enum irq_via via = irq_via_from_cmdline();

    pit_periodic((unsigned)hz);
    irq_enable(via, 0, on_tick);
    sti();
    uint64_t beats = cmdline_u64("beats", 0);
    for (uint64_t i = 1; i <= beats; i++) {
        wait_edge_between_ticks();
        kprintf("beat %lu irq0=%lu rtc=%u\n", i, irq0_count, rtc_seconds());
    }
    wait_edge_between_ticks();
    uint64_t start = irq0_count;
    for (uint64_t i = 0; i < seconds; i++)
        wait_edge_between_ticks();
    uint64_t n = irq0_count - start;
    cli();
    kprintf("ticks irq0=%lu seconds=%lu hz=%lu via=%s\n", n, seconds, hz, irq_via_name(via));
    if (n == 0)
        fail("no IRQ 0 in %lu seconds", seconds);
    return 0;
}
