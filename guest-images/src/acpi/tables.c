/*
 * tables.c - the RSDP search (ACPI 6.3, 5.2.5.1), the root tables (RSDT,
 * XSDT) and the per-table checks every System Description Table gets.
 */
#include "acpi.h"

uint8_t acpi_sum(uint64_t addr, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += *(const volatile uint8_t *)(addr + i);
    return s;
}

void acpi_field(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        dst[i] = (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
    }
    dst[n] = '\0';
}

/* One candidate: the signature, then the ACPI 1.0 checksum (20 bytes) and,
 * from revision 2 on, the extended one over `length` bytes. */
static bool rsdp_valid(uint64_t a, bool *ext_ok)
{
    const struct acpi_rsdp *r = (const struct acpi_rsdp *)a;
    if (acpi_sum(a, 20) != 0)
        return false;
    *ext_ok = true;
    if (r->revision >= 2)
        *ext_ok = r->length >= sizeof(*r) && r->length <= 4096 && acpi_sum(a, r->length) == 0;
    return true;
}

/* The first "RSD PTR " on a 16-byte boundary in [start, start+len) whose
 * checksum is right; a candidate with a wrong checksum is reported. One
 * 8-byte read per position: below 1 MiB may be MMIO (a VM exit per read). */
static uint64_t rsdp_scan(uint64_t start, uint64_t len, bool *ext_ok)
{
    static const char sig[8] = "RSD PTR ";
    uint64_t want;
    memcpy(&want, sig, 8);
    for (uint64_t a = start; a + 20 <= start + len; a += 16) {
        if (*(const volatile uint64_t *)a != want)
            continue;
        if (rsdp_valid(a, ext_ok))
            return a;
        problem("rsdp at 0x%lx checksum=BAD", a);
    }
    return 0;
}

uint64_t acpi_find_rsdp(void)
{
    uint16_t ebda_seg = *(const volatile uint16_t *)0x40e;
    uint64_t ebda = (uint64_t)ebda_seg << 4;
    bool ext_ok = false;
    uint64_t a = 0;
    const char *where = "ebda";
    if (ebda_seg && ebda < 0xa0000)
        a = rsdp_scan(ebda, 1024, &ext_ok);
    if (!a) {
        where = "bios";
        a = rsdp_scan(0xe0000, 0x20000, &ext_ok);
    }
    kprintf("ebda segment=0x%x\n", ebda_seg);
    if (!a) {
        kprintf("rsdp none\n");
        return 0;
    }
    const struct acpi_rsdp *r = (const struct acpi_rsdp *)a;
    char oem[7];
    acpi_field(oem, r->oem_id, 6);
    if (r->revision >= 2)
        kprintf("rsdp addr=0x%lx rev=%u oem=\"%s\" rsdt=0x%x xsdt=0x%lx len=%u area=%s checksum=ok ext_checksum=%s\n",
                a, r->revision, oem, r->rsdt, r->xsdt, r->length, where, ext_ok ? "ok" : "BAD");
    else
        kprintf("rsdp addr=0x%lx rev=%u oem=\"%s\" rsdt=0x%x xsdt=none area=%s checksum=ok\n", a,
                r->revision, oem, r->rsdt, where);
    if (!ext_ok)
        problem("rsdp at 0x%lx ext_checksum=BAD", a);
    return a;
}

/* A length no real table has: a pointer into garbage. */
#define TABLE_MAX_LEN (1u << 20)

bool acpi_check_table(uint64_t addr, const char *expect_sig)
{
    const struct acpi_header *h = (const struct acpi_header *)addr;
    char sig[5], oem[7], oem_table[9];
    acpi_field(sig, h->signature, 4);
    acpi_field(oem, h->oem_id, 6);
    acpi_field(oem_table, h->oem_table_id, 8);
    if (h->length < sizeof(*h) || h->length > TABLE_MAX_LEN) {
        kprintf("table sig=%s addr=0x%lx len=%u checksum=BAD\n", sig, addr, h->length);
        problem("table %s at 0x%lx has length %u", sig, addr, h->length);
        return false;
    }
    bool ok = acpi_sum(addr, h->length) == 0;
    kprintf("table sig=%s addr=0x%lx len=%u rev=%u oem=\"%s\" oem_table=\"%s\" checksum=%s\n", sig, addr,
            h->length, h->revision, oem, oem_table, ok ? "ok" : "BAD");
    if (!ok)
        problem("table %s at 0x%lx checksum=BAD", sig, addr);
    if (expect_sig && memcmp(h->signature, expect_sig, 4) != 0) {
        problem("table at 0x%lx is %s, expected %s", addr, sig, expect_sig);
        return false;
    }
    return ok;
}

/* Entries of a root table: 4 bytes each (RSDT) or 8 (XSDT). */
static int root_entries(uint64_t addr, unsigned size, uint64_t *out, int max)
{
    const struct acpi_header *h = (const struct acpi_header *)addr;
    char sig[5];
    acpi_field(sig, h->signature, 4);
    if (h->length < sizeof(*h))
        return 0;
    int n = (int)((h->length - sizeof(*h)) / size);
    if ((h->length - sizeof(*h)) % size)
        problem("%s length %u is not a whole number of %u-byte entries", sig, h->length, size);
    if (n > max) {
        problem("%s lists %d tables, more than this kernel looks at (%d)", sig, n, max);
        n = max;
    }
    for (int i = 0; i < n; i++) {
        uint64_t p = addr + sizeof(*h) + (uint64_t)i * size;
        out[i] = size == 8 ? *(const uint64_t *)p : *(const uint32_t *)p;
    }
    return n;
}

#define ROOT_MAX 32

int acpi_walk_roots(uint64_t rsdp, uint64_t *tables, int max)
{
    const struct acpi_rsdp *r = (const struct acpi_rsdp *)rsdp;
    uint64_t rsdt_list[ROOT_MAX], xsdt_list[ROOT_MAX];
    int nr = 0, nx = -1;
    if (r->rsdt && acpi_check_table(r->rsdt, "RSDT"))
        nr = root_entries(r->rsdt, 4, rsdt_list, ROOT_MAX);
    if (r->revision >= 2 && r->xsdt) {
        nx = 0;
        if (acpi_check_table(r->xsdt, "XSDT"))
            nx = root_entries(r->xsdt, 8, xsdt_list, ROOT_MAX);
    }

    const uint64_t *list = nx >= 0 ? xsdt_list : rsdt_list;
    int n = nx >= 0 ? nx : nr;
    if (nx >= 0 && r->rsdt) {
        /* Both roots must describe the same tables, in the same order. */
        bool same = nr == nx;
        for (int i = 0; same && i < nr; i++)
            same = rsdt_list[i] == xsdt_list[i];
        kprintf("roots rsdt_entries=%d xsdt_entries=%d same=%d\n", nr, nx, same);
        if (!same)
            problem("the RSDT (%d entries) and the XSDT (%d entries) differ", nr, nx);
    } else {
        kprintf("roots rsdt_entries=%d xsdt_entries=%s\n", nr, nx >= 0 ? "0" : "none");
    }

    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        tables[i] = list[i];
        acpi_check_table(list[i], NULL);
    }
    return n;
}

uint64_t acpi_find_table(const uint64_t *tables, int n, const char *sig)
{
    for (int i = 0; i < n; i++)
        if (memcmp((const void *)tables[i], sig, 4) == 0)
            return tables[i];
    return 0;
}
