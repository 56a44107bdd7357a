/*
 * madt.c - the Multiple APIC Description Table: the local APIC address and
 * every interrupt controller structure, one line each, then how many
 * processors it lists (enabled, online capable).
 */
#include "acpi.h"

enum {
    MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_NMI_SOURCE = 3, MADT_LAPIC_NMI = 4,
    MADT_LAPIC_OVERRIDE = 5, MADT_X2APIC = 9, MADT_X2APIC_NMI = 10,
};

#define LAPIC_ENABLED        0x1
#define LAPIC_ONLINE_CAPABLE 0x2   /* MADT revision 5 on: may be enabled later */

/* Entry lengths the spec fixes. */
static unsigned expected_len(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC: return 8;
    case MADT_IOAPIC: return 12;
    case MADT_ISO: return 10;
    case MADT_NMI_SOURCE: return 8;
    case MADT_LAPIC_NMI: return 6;
    case MADT_LAPIC_OVERRIDE: return 12;
    case MADT_X2APIC: return 16;
    case MADT_X2APIC_NMI: return 12;
    default: return 0;
    }
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#define MAX_TRACKED_CPUS 1024

struct cpu_count {
    unsigned cpus, enabled, online_capable;
    bool bsp_listed;
    uint32_t bsp_apic;
    unsigned tracked;
    uint32_t ids[MAX_TRACKED_CPUS];
};

static void count_cpu(struct cpu_count *c, const char *kind, uint32_t uid, uint32_t apic, uint32_t flags)
{
    bool enabled = flags & LAPIC_ENABLED, online = flags & LAPIC_ONLINE_CAPABLE;
    kprintf("madt %s uid=%u apic=%u flags=0x%x enabled=%d online_capable=%d\n", kind, uid, apic, flags,
            enabled, online);
    c->cpus++;
    if (enabled)
        c->enabled++;
    else if (online)
        c->online_capable++;
    if (enabled && online)
        problem("madt %s apic=%u is both enabled and online capable", kind, apic);
    if (enabled && apic == c->bsp_apic)
        c->bsp_listed = true;
    for (unsigned i = 0; i < c->tracked; i++)
        if (c->ids[i] == apic)
            problem("madt apic=%u listed twice", apic);
    if (c->tracked < MAX_TRACKED_CPUS)
        c->ids[c->tracked++] = apic;
}

static struct cpu_count count;

void madt_list(uint64_t addr)
{
    const struct acpi_header *h = (const struct acpi_header *)addr;
    const uint8_t *body = (const uint8_t *)(addr + sizeof(*h));
    uint32_t lapic_addr = rd32(body), flags = rd32(body + 4);
    kprintf("madt lapic_addr=0x%x flags=0x%x pcat_compat=%u\n", lapic_addr, flags, flags & 1);

    memset(&count, 0, sizeof(count));
    count.bsp_apic = initial_apic_id();
    unsigned ioapics = 0, overrides = 0;
    uint64_t p = addr + sizeof(*h) + 8, end = addr + h->length;
    while (p + 2 <= end) {
        const uint8_t *e = (const uint8_t *)p;
        uint8_t type = e[0], len = e[1];
        if (len < 2 || p + len > end) {
            problem("madt entry type=%u at offset %lu has length %u", type, p - addr, len);
            break;
        }
        unsigned want = expected_len(type);
        if (want && len != want) {
            problem("madt entry type=%u has length %u, not %u", type, len, want);
            p += len;
            continue;
        }
        switch (type) {
        case MADT_LAPIC:
            count_cpu(&count, "lapic", e[2], e[3], rd32(e + 4));
            break;
        case MADT_X2APIC:
            count_cpu(&count, "x2apic", rd32(e + 12), rd32(e + 4), rd32(e + 8));
            break;
        case MADT_IOAPIC:
            ioapics++;
            kprintf("madt ioapic id=%u addr=0x%x gsi_base=%u\n", e[2], rd32(e + 4), rd32(e + 8));
            break;
        case MADT_ISO:
            overrides++;
            kprintf("madt iso bus=%u irq=%u gsi=%u flags=0x%x\n", e[2], e[3], rd32(e + 4), rd16(e + 8));
            break;
        case MADT_NMI_SOURCE:
            kprintf("madt nmi_source gsi=%u flags=0x%x\n", rd32(e + 4), rd16(e + 2));
            break;
        case MADT_LAPIC_NMI:
            kprintf("madt nmi uid=0x%x lint=%u flags=0x%x\n", e[2], e[5], rd16(e + 3));
            break;
        case MADT_X2APIC_NMI:
            kprintf("madt x2apic_nmi uid=0x%x lint=%u flags=0x%x\n", rd32(e + 4), e[8], rd16(e + 2));
            break;
        case MADT_LAPIC_OVERRIDE:
            kprintf("madt lapic_override addr=0x%lx\n", rd64(e + 4));
            break;
        default:
            kprintf("madt entry type=%u len=%u\n", type, len);
            break;
        }
        p += len;
    }
    kprintf("madt cpus=%u enabled=%u online_capable=%u ioapics=%u overrides=%u bsp_apic=%u bsp_listed=%d\n",
            count.cpus, count.enabled, count.online_capable, ioapics, overrides, count.bsp_apic,
            count.bsp_listed);
    if (!count.bsp_listed)
        problem("madt does not list the boot processor (apic=%u) as enabled", count.bsp_apic);
    if (ioapics == 0)
        problem("madt lists no I/O APIC");
}
