/*
 * describe.c - one CPU's identity from CPUID: APIC IDs, topology position,
 * vendor, family/model/stepping, brand string and feature flags.
 */
#include "cpuinfo.h"

struct topology {
    const char *source;     /* "0x1f", "0xb" or "leaf1" */
    unsigned pkg, die, core, thread;
    unsigned logical;       /* logical processors per package, as CPUID declares them */
    unsigned threads;       /* logical processors per core */
};

static uint32_t low_mask(unsigned bits)
{
    return bits >= 32 ? ~0u : (1u << bits) - 1;
}

/* Smallest o with 2^o >= n (Linux's get_count_order). */
static unsigned count_order(unsigned n)
{
    unsigned o = 0;
    while ((1u << o) < n)
        o++;
    return o;
}

/* Leaf 0x1F / 0xB: each level gives the shift to the next level's ID;
 * levels: 1 SMT, 2 core, 3 module, 4 tile, 5 die. False if the leaf is
 * not implemented (subleaf 0 reports no logical processors). */
static bool topology_extended(uint32_t leaf, uint32_t x2apic_id, struct topology *t)
{
    if ((cpuid(leaf, 0).ebx & 0xffff) == 0)
        return false;
    unsigned smt_shift = 0, core_shift = 0, die_shift = 0, below_die = 0, prev = 0, last = 0;
    bool have_core = false, have_die = false;
    t->threads = t->logical = 1;
    for (uint32_t sub = 0; sub < 32; sub++) {
        struct cpuid_regs r = cpuid(leaf, sub);
        unsigned type = (r.ecx >> 8) & 0xff, shift = r.eax & 0x1f;
        if (type == 0)
            break;
        /* EBX[15:0]: logical processors at this level; the last level's is the package's. */
        t->logical = (r.ebx & 0xffff) ? (r.ebx & 0xffff) : t->logical;
        if (type == 1)
            t->threads = t->logical;
        if (type == 1)
            smt_shift = shift;
        else if (type == 2) {
            core_shift = shift;
            have_core = true;
        } else if (type == 5) {
            die_shift = shift;
            below_die = prev;
            have_die = true;
        }
        prev = last = shift;
    }
    if (!have_core)
        core_shift = smt_shift;
    t->source = leaf == 0x1f ? "0x1f" : "0xb";
    t->thread = x2apic_id & low_mask(smt_shift);
    t->core = (x2apic_id & low_mask(core_shift)) >> smt_shift;
    t->die = have_die ? (x2apic_id & low_mask(die_shift)) >> below_die : 0;
    t->pkg = last >= 32 ? 0 : x2apic_id >> last;
    return true;
}

/* Without leaf 0xB, as Linux's legacy detection does: logical processors per
 * package from CPUID.1:EBX[23:16] (if HTT), cores per package from leaf 4
 * EAX[31:26] + 1 (Intel) or 0x80000008 ECX[7:0] + 1 (others). */
static void topology_legacy(const char *vendor, uint32_t apic_id, struct topology *t)
{
    struct cpuid_regs l1 = cpuid(1, 0);
    uint32_t max = cpuid(0, 0).eax, ext_max = cpuid(0x80000000, 0).eax;
    t->source = "leaf1";
    t->die = 0;
    if (!(l1.edx & (1u << 28))) {   /* no HTT: one logical processor per package */
        t->pkg = apic_id;
        t->core = t->thread = 0;
        t->logical = t->threads = 1;
        return;
    }
    unsigned logical = (l1.ebx >> 16) & 0xff;
    if (!logical)
        logical = 1;
    unsigned cores = 1;
    if (strcmp(vendor, "GenuineIntel") == 0 && max >= 4) {
        struct cpuid_regs l4 = cpuid(4, 0);
        if (l4.eax & 0x1f)          /* a cache is described: the field is valid */
            cores = ((l4.eax >> 26) & 0x3f) + 1;
    } else if (ext_max >= 0x80000008 && ext_max < 0x8000ffff) {
        cores = (cpuid(0x80000008, 0).ecx & 0xff) + 1;
    }
    unsigned threads = logical / cores ? logical / cores : 1;
    t->logical = logical;
    t->threads = threads;
    unsigned smt_bits = count_order(threads), core_bits = count_order(cores);
    t->thread = apic_id & low_mask(smt_bits);
    t->core = (apic_id >> smt_bits) & low_mask(core_bits);
    t->pkg = apic_id >> count_order(logical);
}

static void copy_regs_text(char *dst, const uint32_t *regs, unsigned n)
{
    memcpy(dst, regs, 4 * n);
    dst[4 * n] = '\0';
    for (unsigned i = 0; i < 4 * n && dst[i]; i++)
        if (dst[i] < 0x20 || dst[i] > 0x7e || dst[i] == '"')
            dst[i] = '?';
}

static void brand_string(char *out, size_t size)
{
    uint32_t ext_max = cpuid(0x80000000, 0).eax;
    out[0] = '\0';
    if (ext_max < 0x80000004 || ext_max > 0x8000ffff || size < 49)
        return;
    uint32_t regs[12];
    for (unsigned i = 0; i < 3; i++) {
        struct cpuid_regs r = cpuid(0x80000002 + i, 0);
        regs[4 * i] = r.eax;
        regs[4 * i + 1] = r.ebx;
        regs[4 * i + 2] = r.ecx;
        regs[4 * i + 3] = r.edx;
    }
    char raw[49];
    copy_regs_text(raw, regs, 12);
    const char *p = raw;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == ' ')
        n--;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* This CPU's identity, as both outputs print it. */
struct identity {
    char vendor[13], x2apic[16], brand[64];
    uint32_t apic_id;
    unsigned family, model, stepping;
    struct topology t;
};

static void identify(struct identity *id)
{
    struct cpuid_regs l0 = cpuid(0, 0), l1 = cpuid(1, 0);
    uint32_t vendor_regs[3] = { l0.ebx, l0.edx, l0.ecx };
    copy_regs_text(id->vendor, vendor_regs, 3);

    id->apic_id = l1.ebx >> 24;
    unsigned base_family = (l1.eax >> 8) & 0xf;
    id->family = base_family == 0xf ? base_family + ((l1.eax >> 20) & 0xff) : base_family;
    id->model = (l1.eax >> 4) & 0xf;
    if (base_family == 0x6 || base_family == 0xf)
        id->model |= ((l1.eax >> 16) & 0xf) << 4;
    id->stepping = l1.eax & 0xf;

    ksnprintf(id->x2apic, sizeof(id->x2apic), "none");
    bool have_b = l0.eax >= 0xb && (cpuid(0xb, 0).ebx & 0xffff) != 0;
    if (have_b)
        ksnprintf(id->x2apic, sizeof(id->x2apic), "%u", cpuid(0xb, 0).edx);
    if (!(l0.eax >= 0x1f && topology_extended(0x1f, cpuid(0x1f, 0).edx, &id->t))
        && !(have_b && topology_extended(0xb, cpuid(0xb, 0).edx, &id->t)))
        topology_legacy(id->vendor, id->apic_id, &id->t);
    brand_string(id->brand, sizeof(id->brand));
}

/*
 * The block Linux's /proc/cpuinfo shows for this CPU, the fields the KVM chapter's cpu-info.sh
 * reads among them, in Linux's order (arch/x86/kernel/cpu/proc.c). siblings and cpu cores are
 * what CPUID declares for the package; Linux counts the online ones, the same unless
 * -smp maxcpus= leaves some offline.
 */
void cpu_proc_block(unsigned processor, char *buf, size_t size)
{
    struct identity id;
    identify(&id);
    struct cpuid_regs l0 = cpuid(0, 0);
    int n = ksnprintf(buf, size,
                      "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                      "model name\t: %s\nstepping\t: %u\nphysical id\t: %u\nsiblings\t: %u\n"
                      "core id\t\t: %u\ncpu cores\t: %u\napicid\t\t: %u\ninitial apicid\t: %u\n"
                      "cpuid level\t: %u\nflags\t\t: ",
                      processor, id.vendor, id.family, id.model, id.brand, id.stepping, id.t.pkg,
                      id.t.logical, id.t.core, id.t.logical / (id.t.threads ? id.t.threads : 1),
                      id.apic_id, id.apic_id, l0.eax);
    if (n >= 0 && (size_t)n < size)
        cpu_flags(buf + n, size - n);
    size_t len = strlen(buf);
    if (len + 3 < size) {
        buf[len] = '\n';       /* the flags line's end, and the blank line after each block */
        buf[len + 1] = '\n';
        buf[len + 2] = '\0';
    }
}

void cpu_describe(char *buf, size_t size)
{
    struct identity id;
    identify(&id);
    uint32_t apic_id = id.apic_id;
    struct topology t = id.t;
    const char *vendor = id.vendor, *x2apic = id.x2apic, *brand = id.brand;
    unsigned family = id.family, model = id.model;
    struct cpuid_regs l1 = cpuid(1, 0);
    /* MAXPHYADDR and the linear address width: CPUID.80000008H:EAX[7:0] and [15:8]
     * (0 when the leaf is absent, as on 32-bit models). */
    uint32_t ext_max = cpuid(0x80000000, 0).eax, addr = 0;
    if (ext_max >= 0x80000008 && ext_max < 0x8000ffff)
        addr = cpuid(0x80000008, 0).eax;
    int n = ksnprintf(buf, size,
                      "cpu apic=%u x2apic_id=%s pkg=%u die=%u core=%u thread=%u topo=%s "
                      "vendor=%s family=%u model=%u stepping=%u phys_bits=%u virt_bits=%u "
                      "brand=\"%s\" flags=",
                      apic_id, x2apic, t.pkg, t.die, t.core, t.thread, t.source, vendor, family,
                      model, l1.eax & 0xf, addr & 0xff, (addr >> 8) & 0xff, brand);
    if (n >= 0 && (size_t)n < size)
        cpu_flags(buf + n, size - n);
}

void print_hypervisor(void)
{
    if (!(cpuid(1, 0).ecx & (1u << 31)))
        return;
    struct cpuid_regs r = cpuid(0x40000000, 0);
    uint32_t regs[3] = { r.ebx, r.ecx, r.edx };
    char vendor[13];
    copy_regs_text(vendor, regs, 3);
    kprintf("hv vendor=%s max_leaf=0x%x\n", vendor[0] ? vendor : "none", r.eax);
}
