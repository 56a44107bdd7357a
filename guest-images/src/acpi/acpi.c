/*
 * acpi - proves jkvm's ACPI tables from inside the guest. Finds the RSDP as
 * an OS does, checks every table's checksum, lists the MADT and the FADT,
 * measures the PM timer against the PIT, finds \_S3 / \_S5 in the DSDT, and
 * then, as the command line says:
 *
 *   power=none  (default) pass if every check held
 *   power=s5    print "s5 now", enter S5: the machine powers off
 *   power=s3    arm the RTC alarm, put a waking routine at 0x6000 into the
 *               FACS, print "s3 now", enter S3; the routine prints "woke up"
 *               and passes (resume=real, default) or returns to long mode,
 *               checks memory and WAK_STS and passes (resume=long);
 *               alarm=edge (default ahead: 2 s) puts the alarm at the
 *               update UIP announces, right after the SLP_EN write;
 *               alarm=past just before it, its interrupt still raised;
 *               alarm=far an hour ahead (another wake event must end it)
 *   power=button enable the power button's SCI, print "button armed", wait
 *               for a press (QMP's system_powerdown), then enter S5
 *
 * A bad checksum or another inconsistency does not stop the listing: the
 * run fails at the end with the first problem ("fail acpi ...").
 */
#include "acpi.h"

static unsigned problems;
static char first_problem[160];

void problem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (problems++ == 0)
        kvsnprintf(first_problem, sizeof(first_problem), fmt, ap);
    va_end(ap);
}

#define MAX_TABLES 32

static void finish(void)
{
    if (problems)
        fail("acpi %s (problems=%u)", first_problem, problems);
    kprintf("acpi ok\n");
    exit_pass();
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    const char *power = cmdline_get("power");
    if (!power)
        power = "none";
    if (strcmp(power, "none") && strcmp(power, "s5") && strcmp(power, "s3") && strcmp(power, "button"))
        fail("cmdline power=%s is not none, s5, s3 or button", power);
    const char *resume = cmdline_get("resume");
    if (!resume)
        resume = "real";
    if (strcmp(resume, "real") && strcmp(resume, "long"))
        fail("cmdline resume=%s is not real or long", resume);
    const char *alarm = cmdline_get("alarm");
    if (!alarm)
        alarm = "ahead";
    enum s3_alarm s3_alarm = !strcmp(alarm, "edge") ? S3_ALARM_EDGE
                           : !strcmp(alarm, "past") ? S3_ALARM_PAST
                           : !strcmp(alarm, "far") ? S3_ALARM_FAR : S3_ALARM_AHEAD;
    if (s3_alarm == S3_ALARM_AHEAD && strcmp(alarm, "ahead"))
        fail("cmdline alarm=%s is not ahead, edge, past or far", alarm);

    uint64_t rsdp = acpi_find_rsdp();
    if (!rsdp)
        fail("acpi no RSDP in the EBDA or 0xE0000-0xFFFFF");

    uint64_t tables[MAX_TABLES];
    int n = acpi_walk_roots(rsdp, tables, MAX_TABLES);

    uint64_t madt = acpi_find_table(tables, n, "APIC");
    if (madt)
        madt_list(madt);
    else
        problem("no MADT (APIC)");

    uint64_t fadt = acpi_find_table(tables, n, "FACP");
    if (!fadt) {
        problem("no FADT (FACP)");
        finish();
    }
    struct acpi_pm pm;
    uint64_t dsdt = 0, facs = 0;
    fadt_list(fadt, &pm, &dsdt, &facs);

    int s3 = dsdt ? aml_sleep_type(dsdt, '3') : -1;
    int s5 = dsdt ? aml_sleep_type(dsdt, '5') : -1;
    char s3_text[8] = "none", s5_text[8] = "none";
    if (s3 >= 0)
        ksnprintf(s3_text, sizeof(s3_text), "%d", s3);
    if (s5 >= 0)
        ksnprintf(s5_text, sizeof(s5_text), "%d", s5);
    kprintf("sleep s3=%s s5=%s\n", s3_text, s5_text);
    if (s5 < 0)
        problem("the DSDT declares no \\_S5");

    pmtimer_measure(&pm);

    if (!strcmp(power, "none") || !pm.pm1a_cnt)
        finish();
    if (problems)           /* a sleep on broken tables would hide the failure */
        finish();
    if (!strcmp(power, "s5"))
        sleep_s5(&pm, s5);
    if (!strcmp(power, "button"))
        power_button(&pm, s5);
    if (s3 < 0) {
        kprintf("s3 unsupported\n");
        finish();
    }
    sleep_s3(&pm, facs, s3, !strcmp(resume, "long"), s3_alarm);
    finish();
    return 0;
}
