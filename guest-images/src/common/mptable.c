/*
 * mptable.c - MP Specification 1.4: floating pointer search, configuration
 * table parsing and checksums.
 */
#include "kernel.h"

struct mp_floating {
    char signature[4];      /* "_MP_" */
    uint32_t table;         /* physical address of the configuration table */
    uint8_t length;         /* in 16-byte units */
    uint8_t spec_rev;
    uint8_t checksum;
    uint8_t feature[5];
} __attribute__((packed));

struct mp_header {
    char signature[4];      /* "PCMP" */
    uint16_t base_len;
    uint8_t spec_rev;
    uint8_t checksum;
    char oem[8];
    char product[12];
    uint32_t oem_table;
    uint16_t oem_table_size;
    uint16_t entry_count;
    uint32_t lapic_addr;
    uint16_t ext_len;
    uint8_t ext_checksum;
    uint8_t reserved;
} __attribute__((packed));

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINT = 3, MP_LINT = 4 };

static struct mp_info mp;
static bool parsed;

static uint8_t sum_bytes(uint64_t addr, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += *(const volatile uint8_t *)(addr + i);
    return s;
}

/* A valid floating pointer in [start, start+len), or 0. */
static uint32_t scan(uint32_t start, uint32_t len)
{
    for (uint32_t a = start; a + 16 <= start + len; a += 16) {
        const struct mp_floating *fp = (const struct mp_floating *)(uint64_t)a;
        if (memcmp(fp->signature, "_MP_", 4) != 0)
            continue;
        uint32_t flen = fp->length ? fp->length * 16u : 16u;
        if (sum_bytes(a, flen) == 0)
            return a;
        mp.bad_fp_checksum = true;
    }
    return 0;
}

static uint32_t find_floating(void)
{
    uint16_t ebda_seg = *(const volatile uint16_t *)0x40e;      /* BDA: EBDA segment */
    uint16_t base_kib = *(const volatile uint16_t *)0x413;      /* BDA: base memory KiB */
    uint32_t a;
    if (ebda_seg && (a = scan((uint32_t)ebda_seg << 4, 1024)))
        return a;
    uint32_t base_top = (base_kib >= 1 && base_kib <= 640) ? base_kib * 1024u : 640u * 1024;
    if ((a = scan(base_top - 1024, 1024)))
        return a;
    if (base_top != 640u * 1024 && (a = scan(0x9fc00, 1024)))
        return a;
    return scan(0xf0000, 0x10000);
}

static void copy_trimmed(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
    while (n && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
        dst[--n] = '\0';
}

static void parse_entries(uint64_t p, uint64_t end)
{
    for (unsigned i = 0; i < mp.entry_count && p < end; i++) {
        const uint8_t *e = (const uint8_t *)p;
        switch (e[0]) {
        case MP_PROCESSOR:
            if (mp.ncpus < MP_MAX_CPUS)
                mp.cpus[mp.ncpus++] = (struct mp_cpu){
                    .apic_id = e[1], .version = e[2],
                    .enabled = e[3] & 1, .bsp = (e[3] >> 1) & 1,
                    .signature = *(const uint32_t *)(e + 4),
                    .features = *(const uint32_t *)(e + 8),
                };
            p += 20;
            break;
        case MP_BUS:
            if (mp.nbuses < MP_MAX_BUSES) {
                struct mp_bus *b = &mp.buses[mp.nbuses++];
                b->id = e[1];
                copy_trimmed(b->type, (const char *)e + 2, 6);
            }
            p += 8;
            break;
        case MP_IOAPIC:
            if (mp.nioapics < MP_MAX_IOAPICS)
                mp.ioapics[mp.nioapics++] = (struct mp_ioapic){
                    .id = e[1], .version = e[2], .enabled = e[3] & 1,
                    .addr = *(const uint32_t *)(e + 4),
                };
            p += 8;
            break;
        case MP_IOINT:
        case MP_LINT: {
            struct mp_irq irq = {
                .kind = e[1], .flags = *(const uint16_t *)(e + 2),
                .src_bus = e[4], .src_irq = e[5], .dst_id = e[6], .dst_pin = e[7],
            };
            if (e[0] == MP_IOINT && mp.nirqs < MP_MAX_IRQS)
                mp.irqs[mp.nirqs++] = irq;
            else if (e[0] == MP_LINT && mp.nlints < MP_MAX_IRQS)
                mp.lints[mp.nlints++] = irq;
            p += 8;
            break;
        }
        default:
            /* Unknown base entry type: its length is unknown, stop here. */
            mp.nunknown++;
            return;
        }
    }
}

static void parse(void)
{
    uint32_t fa = find_floating();
    if (!fa)
        return;
    const struct mp_floating *fp = (const struct mp_floating *)(uint64_t)fa;
    mp.found = true;
    mp.fp_addr = fa;
    mp.spec_rev = fp->spec_rev;
    mp.default_config = fp->feature[0];
    mp.imcr = (fp->feature[1] >> 7) & 1;
    mp.table_addr = fp->table;
    if (mp.default_config || !fp->table)
        return;
    const struct mp_header *h = (const struct mp_header *)(uint64_t)fp->table;
    if (memcmp(h->signature, "PCMP", 4) != 0)
        return;
    mp.table_len = h->base_len;
    mp.ext_len = h->ext_len;
    mp.entry_count = h->entry_count;
    mp.lapic_addr = h->lapic_addr;
    copy_trimmed(mp.oem, h->oem, 8);
    copy_trimmed(mp.product, h->product, 12);
    mp.table_ok = sum_bytes(fp->table, h->base_len) == 0;
    mp.ext_ok = ((sum_bytes(fp->table + h->base_len, h->ext_len) + h->ext_checksum) & 0xff) == 0;
    parse_entries(fp->table + sizeof(*h), (uint64_t)fp->table + h->base_len);
}

const struct mp_info *mp_info(void)
{
    if (!parsed) {
        parse();
        parsed = true;
    }
    return &mp;
}

const char *mp_bus_type(const struct mp_info *m, uint8_t bus_id)
{
    for (unsigned i = 0; i < m->nbuses; i++)
        if (m->buses[i].id == bus_id)
            return m->buses[i].type;
    return "?";
}

struct isa_route mp_isa_route(unsigned irq)
{
    const struct mp_info *m = mp_info();
    struct isa_route r = {
        .ioapic_addr = m->nioapics ? m->ioapics[0].addr : IOAPIC_DEFAULT_BASE,
        .pin = irq == 0 ? 2 : irq,
    };
    for (unsigned i = 0; i < m->nirqs; i++) {
        const struct mp_irq *e = &m->irqs[i];
        if (e->kind != 0 || e->src_irq != irq || strcmp(mp_bus_type(m, e->src_bus), "ISA") != 0)
            continue;
        r.from_table = true;
        r.pin = e->dst_pin;
        for (unsigned k = 0; k < m->nioapics; k++)
            if (m->ioapics[k].id == e->dst_id || e->dst_id == 0xff)
                r.ioapic_addr = m->ioapics[k].addr;
        /* Polarity bits 1:0 and trigger bits 3:2: 00 = conforms to the bus
         * (ISA: active high, edge), 01 = high / edge, 11 = low / level. */
        r.active_low = (e->flags & 3) == 3;
        r.level = ((e->flags >> 2) & 3) == 3;
        break;
    }
    return r;
}
