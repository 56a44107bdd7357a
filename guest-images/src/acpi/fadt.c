/*
 * fadt.c - the Fixed ACPI Description Table: the PM register blocks (from
 * the X_ Generic Address fields where the revision has them, checked
 * against the 32-bit fields), then the DSDT and the FACS it points to.
 */
#include "acpi.h"

_Static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112, "FADT flags offset");
_Static_assert(__builtin_offsetof(struct acpi_fadt, minor_revision) == 131, "FADT minor offset");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "FADT X_PM1a_EVT offset");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR offset");
_Static_assert(__builtin_offsetof(struct acpi_fadt, hypervisor_vendor) == 268, "FADT hypervisor offset");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT size");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS size");

/* Whether the field [off, off+size) lies inside a FADT of `len` bytes. */
#define FADT_HAS(f, field) \
    (__builtin_offsetof(struct acpi_fadt, field) + sizeof((f)->field) <= (f)->header.length)

/*
 * The port of one register block: the X_ field when present and non-zero
 * (revision 3 on), else the 32-bit one. ACPICA's checks: both set means
 * both equal; the X_ bit width is 8 x the block length; I/O space.
 */
static uint64_t block(const char *name, uint32_t addr32, uint8_t len, const struct acpi_gas *x, bool has_x)
{
    if (!has_x || x->address == 0)
        return addr32;
    if (x->space_id != GAS_SYSTEM_IO)
        problem("fadt X_%s space_id=%u, not system I/O", name, x->space_id);
    if (addr32 && addr32 != x->address)
        problem("fadt %s=0x%x but X_%s=0x%lx", name, addr32, name, x->address);
    if (len && x->bit_width != 8u * len)
        problem("fadt X_%s bit_width=%u but %s_LEN=%u", name, x->bit_width, name, len);
    return x->address;
}

static uint64_t pointer(const char *name, uint32_t addr32, uint64_t x, bool has_x)
{
    if (!has_x || x == 0)
        return addr32;
    if (addr32 && addr32 != x)
        problem("fadt %s=0x%x but X_%s=0x%lx", name, addr32, name, x);
    return x;
}

static void list_facs(uint64_t addr)
{
    const struct acpi_facs *f = (const struct acpi_facs *)addr;
    char sig[5];
    acpi_field(sig, f->signature, 4);
    kprintf("facs addr=0x%lx sig=%s len=%u version=%u hw_sig=0x%x waking_vector=0x%x x_waking_vector=0x%lx "
            "flags=0x%x global_lock=0x%x\n", addr, sig, f->length, f->version, f->hardware_signature,
            f->firmware_waking_vector, f->x_firmware_waking_vector, f->flags, f->global_lock);
    if (memcmp(f->signature, "FACS", 4) != 0)
        problem("facs at 0x%lx has signature %s", addr, sig);
    if (f->length != 64)
        problem("facs length=%u, not 64", f->length);
    if (addr & 63)
        problem("facs at 0x%lx is not 64-byte aligned", addr);
}

void fadt_list(uint64_t addr, struct acpi_pm *pm, uint64_t *dsdt, uint64_t *facs)
{
    const struct acpi_fadt *f = (const struct acpi_fadt *)addr;
    bool x = f->header.revision >= 3;
    memset(pm, 0, sizeof(*pm));
    pm->pm1a_evt = block("PM1a_EVT_BLK", f->pm1a_evt_blk, f->pm1_evt_len, &f->x_pm1a_evt_blk,
                         x && FADT_HAS(f, x_pm1a_evt_blk));
    pm->pm1a_cnt = block("PM1a_CNT_BLK", f->pm1a_cnt_blk, f->pm1_cnt_len, &f->x_pm1a_cnt_blk,
                         x && FADT_HAS(f, x_pm1a_cnt_blk));
    pm->pm_tmr = block("PM_TMR_BLK", f->pm_tmr_blk, f->pm_tmr_len, &f->x_pm_tmr_blk,
                       x && FADT_HAS(f, x_pm_tmr_blk));
    pm->gpe0 = block("GPE0_BLK", f->gpe0_blk, f->gpe0_blk_len, &f->x_gpe0_blk, x && FADT_HAS(f, x_gpe0_blk));
    pm->pm1_evt_len = f->pm1_evt_len;
    pm->timer32 = f->flags & FADT_F_TMR_VAL_EXT;
    pm->sci = f->sci_int;
    pm->smi_cmd = f->smi_cmd;
    pm->fadt_flags = f->flags;
    *dsdt = pointer("DSDT", f->dsdt, f->x_dsdt, x && FADT_HAS(f, x_dsdt));
    *facs = pointer("FIRMWARE_CTRL", f->firmware_ctrl, f->x_firmware_ctrl, x && FADT_HAS(f, x_firmware_ctrl));

    char reset[40] = "none";
    if ((f->flags & FADT_F_RESET_REG_SUP) && FADT_HAS(f, reset_value)) {
        const struct acpi_gas *r = &f->reset_reg;
        ksnprintf(reset, sizeof(reset), "%s0x%lx/%u", r->space_id == GAS_SYSTEM_IO ? "" : "mem:", r->address,
                  f->reset_value);
    }
    kprintf("fadt rev=%u sci=%u smi_cmd=0x%x pm1a_evt=0x%x pm1a_cnt=0x%x pm_tmr=0x%x pm_tmr_len=%u "
            "tmr_val_ext=%d gpe0=0x%x reset=%s century=0x%x flags=0x%x iapc_boot_arch=0x%x\n",
            f->header.revision, f->sci_int, f->smi_cmd, pm->pm1a_evt, pm->pm1a_cnt, pm->pm_tmr, f->pm_tmr_len,
            pm->timer32, pm->gpe0, reset, f->century, f->flags, f->iapc_boot_arch);
    bool has_x = x && FADT_HAS(f, x_dsdt);
    kprintf("fadt minor=%u firmware_ctrl=0x%x x_firmware_ctrl=0x%lx dsdt=0x%x x_dsdt=0x%lx pm1_evt_len=%u "
            "pm1_cnt_len=%u gpe0_len=%u acpi_enable=0x%x acpi_disable=0x%x x_fields=%d\n",
            FADT_HAS(f, minor_revision) ? f->minor_revision : 0, f->firmware_ctrl,
            has_x ? f->x_firmware_ctrl : 0, f->dsdt, has_x ? f->x_dsdt : 0, f->pm1_evt_len, f->pm1_cnt_len,
            f->gpe0_blk_len, f->acpi_enable, f->acpi_disable, x && FADT_HAS(f, x_gpe0_blk));
    if (x && FADT_HAS(f, x_gpe0_blk)) {
        const struct acpi_gas *g[] = { &f->x_pm1a_evt_blk, &f->x_pm1a_cnt_blk, &f->x_pm_tmr_blk, &f->x_gpe0_blk };
        const char *n[] = { "pm1a_evt", "pm1a_cnt", "pm_tmr", "gpe0" };
        for (unsigned i = 0; i < ARRAY_SIZE(g); i++)
            kprintf("fadt x_%s space=%u bit_width=%u bit_offset=%u access_size=%u addr=0x%lx\n", n[i],
                    g[i]->space_id, g[i]->bit_width, g[i]->bit_offset, g[i]->access_size, g[i]->address);
    }

    if (pm->pm1a_evt && pm->pm1a_cnt) {
        uint16_t sts = inw(pm->pm1a_evt), en = inw(pm->pm1a_evt + pm->pm1_evt_len / 2);
        uint16_t cnt = inw(pm->pm1a_cnt);
        kprintf("pm1 sts=0x%x en=0x%x cnt=0x%x sci_en=%u\n", sts, en, cnt, cnt & PM1_CNT_SCI_EN);
        /* Without SMI_CMD there is no way to switch modes: ACPI mode always. */
        if (pm->smi_cmd == 0 && !(cnt & PM1_CNT_SCI_EN))
            problem("smi_cmd is 0 but PM1_CNT.SCI_EN reads 0");
    } else {
        problem("fadt has no PM1a event or control block");
    }

    if (*dsdt)
        acpi_check_table(*dsdt, "DSDT");
    else
        problem("fadt names no DSDT");
    if (*facs)
        list_facs(*facs);
    else
        kprintf("facs none\n");
}
