/*
 * cpuinfo - what the processors see: lists the MP table (floating pointer,
 * configuration table, its processor / bus / I/O APIC / interrupt entries),
 * prints the BSP's "cpu ..." line, then starts every other enabled processor
 * of the table with INIT-SIPI-SIPI, one after the other; each prints its
 * own "cpu ..." line (under the console lock) and halts. Ends with
 *   cpus online=<n> mp_entries=<m> mp_disabled=<k>
 * and passes when every enabled processor came up and the MP checksums are
 * good. Command line:
 *   aps=0              list, but start no APs
 *   apic_ids=1,2,5     start exactly these APIC IDs instead of the table's
 *                      enabled entries (the BSP's own ID is skipped)
 *   proc=1             each CPU prints its block of Linux's /proc/cpuinfo instead
 *                      of its "cpu ..." line (processor numbered in start order, as
 *                      Linux numbers them), for the KVM chapter's cpu-info.sh
 * See README.md.
 */
#include "cpuinfo.h"

#define LINE_MAX 2048
#define AP_STACK_PAGES 4
#define AP_START_TIMEOUT_MS 1000
#define AP_PRINT_TIMEOUT_MS 5000

static volatile uint32_t ap_started, ap_finished;
static volatile uint32_t next_processor;   /* /proc/cpuinfo's numbering: APs start one at a time */

/* The "cpu ..." line, or with proc=1 the /proc/cpuinfo block instead, in one print. */
static void print_self(void)
{
    char line[LINE_MAX];
    if (cmdline_flag("proc")) {
        cpu_proc_block(__atomic_fetch_add(&next_processor, 1, __ATOMIC_SEQ_CST), line, sizeof(line));
        kprintf("%s", line);
        return;
    }
    cpu_describe(line, sizeof(line));
    kprintf("%s\n", line);
}

void ap_main(void)
{
    idt_load();
    __atomic_add_fetch(&ap_started, 1, __ATOMIC_SEQ_CST);
    print_self();
    __atomic_add_fetch(&ap_finished, 1, __ATOMIC_SEQ_CST);
    halt_forever();
}

static void print_mp(const struct mp_info *mp)
{
    if (!mp->found) {
        kprintf("mp none\n");
        if (mp->bad_fp_checksum)
            fail("mp floating pointer with a bad checksum");
        return;
    }
    kprintf("mp floating addr=0x%x table=0x%x spec=1.%u default_config=%u imcr=%d\n", mp->fp_addr,
            mp->table_addr, mp->spec_rev, mp->default_config, mp->imcr);
    if (mp->default_config)
        return;     /* a default configuration has no table to list */
    if (!mp->table_len)
        fail("mp table at 0x%x: no PCMP signature", mp->table_addr);
    kprintf("mp table addr=0x%x len=%u entries=%u lapic=0x%x oem=\"%s\" product=\"%s\" "
            "ext_len=%u checksum=%s ext_checksum=%s\n",
            mp->table_addr, mp->table_len, mp->entry_count, mp->lapic_addr, mp->oem, mp->product,
            mp->ext_len, mp->table_ok ? "ok" : "bad", mp->ext_ok ? "ok" : "bad");
    for (unsigned i = 0; i < mp->ncpus; i++)
        kprintf("mp cpu apic=%u enabled=%d bsp=%d\n", mp->cpus[i].apic_id, mp->cpus[i].enabled,
                mp->cpus[i].bsp);
    for (unsigned i = 0; i < mp->nbuses; i++)
        kprintf("mp bus id=%u type=%s\n", mp->buses[i].id, mp->buses[i].type);
    for (unsigned i = 0; i < mp->nioapics; i++)
        kprintf("mp ioapic id=%u addr=0x%x enabled=%d version=0x%x\n", mp->ioapics[i].id,
                mp->ioapics[i].addr, mp->ioapics[i].enabled, mp->ioapics[i].version);
    for (unsigned i = 0; i < mp->nirqs; i++) {
        const struct mp_irq *q = &mp->irqs[i];
        kprintf("mp irq type=%u bus=%u bus_type=%s irq=%u ioapic=%u pin=%u flags=0x%x\n", q->kind,
                q->src_bus, mp_bus_type(mp, q->src_bus), q->src_irq, q->dst_id, q->dst_pin,
                q->flags);
    }
    for (unsigned i = 0; i < mp->nlints; i++) {
        const struct mp_irq *q = &mp->lints[i];
        kprintf("mp lint type=%u bus=%u irq=%u lapic=%u lint=%u flags=0x%x\n", q->kind,
                q->src_bus, q->src_irq, q->dst_id, q->dst_pin, q->flags);
    }
    if (mp->nunknown)
        fail("mp table: unknown entry type, listing stopped");
    if (!mp->table_ok || !mp->ext_ok)
        fail("mp table checksum=%s ext_checksum=%s", mp->table_ok ? "ok" : "bad",
             mp->ext_ok ? "ok" : "bad");
}

static void *tramp_field(char *field)
{
    return (void *)(uint64_t)(AP_TRAMPOLINE + (field - ap_trampoline_start));
}

static void install_trampoline(void)
{
    memcpy((void *)(uint64_t)AP_TRAMPOLINE, ap_trampoline_start,
           ap_trampoline_end - ap_trampoline_start);
    *(uint64_t *)tramp_field(ap_tramp_cr3) = read_cr3();
    *(uint64_t *)tramp_field(ap_tramp_entry) = (uint64_t)ap_main;
}

/* Waits up to ms milliseconds for *counter to differ from before. */
static bool wait_change(volatile uint32_t *counter, uint32_t before, unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        if (*counter != before)
            return true;
        pit_delay_us(1000);
    }
    return *counter != before;
}

/* INIT, 10 ms, SIPI, 200 us, SIPI (ignored by a CPU that already runs), as
 * the MP specification's universal start-up algorithm says. */
static bool start_ap(uint8_t apic_id)
{
    uint8_t *stack = kalloc_pages(AP_STACK_PAGES);
    *(uint64_t *)tramp_field(ap_tramp_stack) = (uint64_t)(stack + AP_STACK_PAGES * 4096);
    uint32_t started = ap_started, finished = ap_finished;
    lapic_write(LAPIC_ESR, 0);
    lapic_send_init(apic_id);
    pit_delay_us(10000);
    for (int i = 0; i < 2; i++) {
        lapic_send_sipi(apic_id, AP_TRAMPOLINE >> 12);
        pit_delay_us(200);
    }
    if (!wait_change(&ap_started, started, AP_START_TIMEOUT_MS)) {
        kprintf("ap apic=%u did not start\n", apic_id);
        return false;
    }
    if (!wait_change(&ap_finished, finished, AP_PRINT_TIMEOUT_MS)) {
        kprintf("ap apic=%u started but did not report\n", apic_id);
        return false;
    }
    return true;
}

/* The next number of a comma-separated list; fails the run on garbage. */
static uint64_t parse_list_item(const char **list)
{
    char item[24];
    size_t n = 0;
    while (**list && **list != ',' && n + 1 < sizeof(item))
        item[n++] = *(*list)++;
    item[n] = '\0';
    if (**list == ',')
        (*list)++;
    uint64_t v;
    if (!parse_u64(item, &v) || v > 0xfe)
        fail("cmdline apic_ids: '%s' is not an xAPIC ID (0..254)", item);
    return v;
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    print_hypervisor();
    const struct mp_info *mp = mp_info();
    print_mp(mp);

    lapic_enable();
    uint32_t self = lapic_id();
    print_self();

    unsigned online = 1, disabled = 0, expected = 1;
    bool start = !cmdline_get("aps") || cmdline_flag("aps");
    const char *ids = cmdline_get("apic_ids");
    if (start)
        install_trampoline();
    for (unsigned i = 0; i < mp->ncpus; i++) {
        const struct mp_cpu *c = &mp->cpus[i];
        if (!c->enabled) {
            disabled++;
            continue;
        }
        if (c->apic_id == self || !start || ids)
            continue;
        expected++;
        if (start_ap(c->apic_id))
            online++;
    }
    while (start && ids && *ids) {
        uint64_t id = parse_list_item(&ids);
        if (id == self)
            continue;
        expected++;
        if (start_ap((uint8_t)id))
            online++;
    }
    kprintf("cpus online=%u mp_entries=%u mp_disabled=%u\n", online, mp->ncpus, disabled);
    if (online != expected)
        fail("cpus expected=%u online=%u", expected, online);
    return 0;
}
