/*
 * button.c - power=button: waits for the ACPI power button as an OS does.
 * Sets PWRBTN_EN in PM1_EN, routes the SCI (the FADT's interrupt) and sleeps
 * in sti; hlt. The SCI handler reads PM1_STS and clears PWRBTN_STS (write 1);
 * on the press the kernel prints the line and enters S5, as an OS's power
 * button policy does.
 */
#include "acpi.h"
#include "irq.h"

#define PM1_STS_PWRBTN 0x0100
#define PM1_EN_PWRBTN  0x0100

static const struct acpi_pm *button_pm;
static volatile unsigned presses, scis;
static volatile uint16_t seen_sts;

static void on_sci(struct int_frame *f)
{
    (void)f;
    uint16_t sts = inw(button_pm->pm1a_evt);
    scis++;
    if (sts & PM1_STS_PWRBTN) {
        seen_sts = sts;
        outw(button_pm->pm1a_evt, PM1_STS_PWRBTN);   /* write 1 to clear: the SCI falls */
        presses++;
    }
}

void power_button(const struct acpi_pm *pm, int s5)
{
    button_pm = pm;
    outw(pm->pm1a_evt, PM1_STS_PWRBTN);            /* a stale press is not this one */
    uint16_t en_port = pm->pm1a_evt + pm->pm1_evt_len / 2;
    outw(en_port, inw(en_port) | PM1_EN_PWRBTN);
    irq_enable(irq_via_from_cmdline(), pm->sci, on_sci);
    kprintf("button armed sci=%u pm1_en=0x%x\n", pm->sci, inw(en_port));
    while (!presses)
        sti_hlt();
    cli();
    kprintf("button pressed pm1_sts=0x%x scis=%u\n", seen_sts, scis);
    sleep_s5(pm, s5);
}
