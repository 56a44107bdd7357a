/*
 * snapshot - a guest for snapshot/restore tests: it proves from inside what a restore gave it.
 * Writes a pattern over `pages` 4 KiB pages (default 256: 1 MiB), starts the other enabled CPUs of
 * the MP table when aps=1 (each then counts in a loop of its own), routes COM1's IRQ 4, prints
 *   snap ready cpus=<n> pages=<p>
 * and sleeps in sti; hlt. Each byte received on COM1 is a command, answered with one line:
 *   o   overwrite the pattern               snap overwritten
 *   c   check it                            snap pattern intact | snap pattern lost mismatches=<m>
 *   a   are the APs counting (50 ms)        snap aps running=<k> of <n>
 *   t   the clocks                          snap time tsc=<rdtsc> rtc=<YYYY-MM-DD hh:mm:ss>
 *   q   end                                 snap bye, then pass
 * Other bytes are ignored.
 */
#include "kernel.h"

#define MAX_PAGES 1024
#define AP_STACK_PAGES 4
#define MAX_APS 16
#define AP_TRAMPOLINE 0x8000
#define IER 1
#define IIR 2
#define RING 256

extern char ap_trampoline_start[], ap_trampoline_end[];
extern char ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_entry[];
void ap_main(void);

static uint64_t pattern[MAX_PAGES * 512] __attribute__((aligned(4096)));
static uint64_t pages;
static volatile uint64_t ap_counter[MAX_APS];
static volatile uint32_t ap_started;
static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail;

static uint64_t expected(uint64_t i)
{
    return ((uint64_t)&pattern[i]) ^ 0x5a5a5a5a5a5a5a5aull;
}

void ap_main(void)
{
    idt_load();
    uint32_t me = __atomic_fetch_add(&ap_started, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        ap_counter[me]++;
        pause();
    }
}

static void *tramp_field(char *field)
{
    return (void *)(uint64_t)(AP_TRAMPOLINE + (field - ap_trampoline_start));
}

static void start_aps(void)
{
    const struct mp_info *mp = mp_info();
    memcpy((void *)(uint64_t)AP_TRAMPOLINE, ap_trampoline_start, ap_trampoline_end - ap_trampoline_start);
    *(uint64_t *)tramp_field(ap_tramp_cr3) = read_cr3();
    *(uint64_t *)tramp_field(ap_tramp_entry) = (uint64_t)ap_main;
    uint32_t self = lapic_id();
    for (unsigned i = 0; i < mp->ncpus && ap_started < MAX_APS; i++) {
        const struct mp_cpu *c = &mp->cpus[i];
        if (!c->enabled || c->apic_id == self)
            continue;
        uint8_t *stack = kalloc_pages(AP_STACK_PAGES);
        *(uint64_t *)tramp_field(ap_tramp_stack) = (uint64_t)(stack + AP_STACK_PAGES * 4096);
        uint32_t before = ap_started;
        lapic_write(LAPIC_ESR, 0);
        lapic_send_init(c->apic_id);
        pit_delay_us(10000);
        for (int k = 0; k < 2; k++) {
            lapic_send_sipi(c->apic_id, AP_TRAMPOLINE >> 12);
            pit_delay_us(200);
        }
        for (int ms = 0; ms < 1000 && ap_started == before; ms++)
            pit_delay_us(1000);
        if (ap_started == before)
            fail("ap apic=%u did not start", c->apic_id);
    }
}

static void on_com1(struct int_frame *f)
{
    (void)f;
    int c;
    while ((c = serial_getc()) >= 0) {
        uint32_t next = (ring_head + 1) % RING;
        if (next != ring_tail) {
            ring[ring_head] = (uint8_t)c;
            ring_head = next;
        }
    }
    (void)inb(COM1 + IIR);
}

static char next_command(void)
{
    cli();
    while (ring_tail == ring_head) {
        sti_hlt();
        cli();
    }
    char c = (char)ring[ring_tail];
    ring_tail = (ring_tail + 1) % RING;
    sti();
    return c;
}

static void check(void)
{
    uint64_t bad = 0;
    for (uint64_t i = 0; i < pages * 512; i++)
        if (pattern[i] != expected(i))
            bad++;
    if (bad == 0)
        kprintf("snap pattern intact\n");
    else
        kprintf("snap pattern lost mismatches=%lu\n", bad);
}

static void aps_running(void)
{
    uint64_t before[MAX_APS];
    uint32_t n = ap_started;
    for (uint32_t i = 0; i < n; i++)
        before[i] = ap_counter[i];
    pit_delay_us(50000);
    uint32_t running = 0;
    for (uint32_t i = 0; i < n; i++)
        if (ap_counter[i] != before[i])
            running++;
    kprintf("snap aps running=%u of %u\n", running, n);
}

static void clocks(void)
{
    struct rtc_time t;
    rtc_read(&t);
    kprintf("snap time tsc=%lu rtc=%04u-%02u-%02u %02u:%02u:%02u\n", rdtsc(), t.year, t.month, t.day,
            t.hour, t.minute, t.second);
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    pages = cmdline_u64("pages", 256);
    if (pages < 1 || pages > MAX_PAGES)
        fail("cmdline pages=%lu: expected 1..%u", pages, MAX_PAGES);
    for (uint64_t i = 0; i < pages * 512; i++)
        pattern[i] = expected(i);
    lapic_enable();
    if (cmdline_flag("aps"))
        start_aps();
    irq_enable(irq_via_from_cmdline(), 4, on_com1);
    outb(COM1 + IER, 0x01);
    on_com1(NULL);
    sti();
    kprintf("snap ready cpus=%u pages=%lu\n", ap_started + 1, pages);
    for (;;) {
        switch (next_command()) {
        case 'o':
            for (uint64_t i = 0; i < pages * 512; i++)
                pattern[i] = ~expected(i);
            kprintf("snap overwritten\n");
            break;
        case 'c':
            check();
            break;
        case 'a':
            aps_running();
            break;
        case 't':
            clocks();
            break;
        case 'q':
            cli();
            kprintf("snap bye\n");
            return 0;
        default:
            break;
        }
    }
}
