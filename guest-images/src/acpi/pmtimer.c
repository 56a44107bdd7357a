/*
 * pmtimer.c - the ACPI PM timer against the PIT: read it, wait an interval
 * counted by PIT channel 2 (pit_delay_us), read it again; the slowest of three
 * rounds is printed. The counter is 24
 * or 32 bits (FADT TMR_VAL_EXT) and wraps; the difference modulo its width
 * is right as long as the interval is shorter than one wrap (4.7 s at 24
 * bits).
 */
#include "acpi.h"

#define PM_TIMER_HZ 3579545u

void pmtimer_measure(const struct acpi_pm *pm)
{
    if (!pm->pm_tmr) {
        problem("fadt has no PM timer");
        return;
    }
    uint32_t mask = pm->timer32 ? 0xffffffffu : 0x00ffffffu;
    uint64_t ms = cmdline_u64("pmtimer_ms", 100);
    if (ms < 1 || ms > 4000)
        fail("cmdline pmtimer_ms=%lu is not within 1..4000", ms);

    /* A counter that stands still or runs backwards between close reads. */
    uint32_t prev = inl(pm->pm_tmr) & mask;
    bool monotonic = true;
    for (int i = 0; i < 8; i++) {
        uint32_t now = inl(pm->pm_tmr) & mask;
        if (((now - prev) & mask) > mask / 2)
            monotonic = false;
        prev = now;
    }

    /* The PIT counts only while this vCPU waits in each chunk of pit_delay_us; a
     * host that deschedules the vCPU between chunks or before it sees OUT2 adds
     * time only the PM timer counts, so a round can only read fast, never slow:
     * the slowest of a few rounds is the rate (a loaded host read 3.5x once). */
    uint32_t start = 0, end = 0, ticks = 0;
    for (int round = 0; round < 3; round++) {
        uint32_t s0 = inl(pm->pm_tmr) & mask;
        pit_delay_us((uint32_t)(ms * 1000));
        uint32_t e0 = inl(pm->pm_tmr) & mask;
        uint32_t t0 = (e0 - s0) & mask;
        if (round == 0 || t0 < ticks) {
            start = s0;
            end = e0;
            ticks = t0;
        }
    }
    uint64_t rate = (uint64_t)ticks * 1000 / ms;
    kprintf("pmtimer ticks=%u interval_ms=%lu rate_hz=%lu expected_hz=%u bits=%u start=0x%x end=0x%x "
            "monotonic=%d\n", ticks, ms, rate, PM_TIMER_HZ, pm->timer32 ? 32 : 24, start, end, monotonic);
    if (ticks == 0)
        problem("the PM timer does not count");
    if (!monotonic)
        problem("the PM timer ran backwards between two reads");
}
