/*
 * sleep.c - entering S5 (soft off) and S3 (suspend to RAM) as an OS does:
 * SLP_TYP from the DSDT's \_Sx package into PM1a_CNT, then SLP_EN
 * (ACPI 6.3, 7.4.2 / 16.1.3: two writes, SCI_EN kept as read).
 *
 * For S3 the kernel also does what a resume needs: a waking routine in low
 * memory (wake.S) whose address goes into FACS.firmware_waking_vector, and
 * a wake event: the CMOS RTC alarm 2 seconds ahead (AIE in status B), with
 * RTC_EN in PM1_EN unless the FADT says the RTC wake status is not in the
 * fixed registers (FIX_RTC). alarm=edge puts the alarm right after SLP_EN,
 * alarm=past right before it, alarm=far an hour ahead.
 */
#include "acpi.h"

#define WAKE_ADDR 0x6000ull
#define WAKE_AHEAD_SECONDS 2
#define WAKE_FAR_SECONDS 3600   /* alarm=far: only another wake event ends the sleep in time */
#define RTC_ALARM_SECONDS 0x01
#define RTC_ALARM_MINUTES 0x03
#define RTC_ALARM_HOURS   0x05
#define RTC_B_AIE  0x20
#define RTC_B_SET  0x80
#define RTC_B_BIN  0x04
#define RTC_B_24H  0x02
#define RTC_A_UIP  0x80

extern char wake_start[], wake_end[], wake_long[], wake_cr3[], wake_stack[], wake_entry[];

/* Written before sleeping, compared after: memory kept across S3. */
static volatile uint64_t s3_marker;
#define S3_MARKER 0x6b656570206d656dull     /* "mem keep" */
static uint32_t image_sum;
static struct acpi_pm resume_pm;
static uint8_t resume_stack[16384] __attribute__((aligned(16)));

static void sleep_enter(const struct acpi_pm *pm, int slp_typ)
{
    uint16_t cnt = inw(pm->pm1a_cnt) & ~(PM1_CNT_SLP_TYP_MASK | PM1_CNT_SLP_EN);
    cnt |= (uint16_t)(slp_typ << PM1_CNT_SLP_TYP_SHIFT);
    outw(pm->pm1a_cnt, cnt);
    outw(pm->pm1a_cnt, cnt | PM1_CNT_SLP_EN);
}

/* Gives the VMM time to stop the vCPU; the line only comes if it does not. */
static void wait_then_fail(const char *what, unsigned seconds)
{
    for (unsigned i = 0; i < seconds * 10; i++)
        pit_delay_us(100000);
    fail("%s", what);
}

void sleep_s5(const struct acpi_pm *pm, int slp_typ)
{
    kprintf("s5 now\n");
    sleep_enter(pm, slp_typ);
    wait_then_fail("s5 did not power off", 5);
}

static uint8_t rtc_encode(unsigned v, uint8_t status_b)
{
    return (status_b & RTC_B_BIN) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | (v % 10));
}

/* Hours as the RTC keeps them: 24-hour, or 1-12 with bit 7 for PM. */
static uint8_t rtc_encode_hour(unsigned h, uint8_t status_b)
{
    if (status_b & RTC_B_24H)
        return rtc_encode(h, status_b);
    unsigned h12 = h % 12 == 0 ? 12 : h % 12;
    return rtc_encode(h12, status_b) | (h >= 12 ? 0x80 : 0);
}

static void rtc_arm_alarm(unsigned ahead)
{
    struct rtc_time now;
    rtc_read(&now);
    unsigned s = now.second + ahead, m = now.minute, h = now.hour;
    m += s / 60;
    s %= 60;
    h += m / 60;
    m %= 60;
    h %= 24;
    uint8_t b = cmos_read(RTC_STATUS_B);
    cmos_write(RTC_STATUS_B, b & ~RTC_B_AIE);
    cmos_write(RTC_ALARM_SECONDS, rtc_encode(s, b));
    cmos_write(RTC_ALARM_MINUTES, rtc_encode(m, b));
    cmos_write(RTC_ALARM_HOURS, rtc_encode_hour(h, b));
    uint8_t c = cmos_read(RTC_STATUS_C);      /* reading clears the pending flags */
    cmos_write(RTC_STATUS_B, (b & ~RTC_B_SET) | RTC_B_AIE);
    kprintf("rtc alarm now=%02u:%02u:%02u at=%02u:%02u:%02u status_b=0x%02x status_c_was=0x%02x\n", now.hour,
            now.minute, now.second, h, m, s, cmos_read(RTC_STATUS_B), c);
}

static uint32_t kernel_image_sum(void)
{
    extern char __kernel_start[], __bss_start[];
    uint32_t sum = 0;
    for (const uint32_t *p = (const uint32_t *)__kernel_start; p < (const uint32_t *)__bss_start; p++)
        sum = sum * 31 + *p;
    return sum;
}

static void *wake_field(char *field)
{
    return (void *)(WAKE_ADDR + (uint64_t)(field - wake_start));
}

/*
 * The waking routine's page tables: the first GiB identity-mapped with
 * 2 MiB pages, in low memory next to it rather than the kernel's own (in
 * .bss), so that the routine reaches long mode even when the kernel's
 * memory was not kept - and s3_resumed can say so instead of a triple
 * fault. (QEMU re-copies a -kernel ELF's segment, .bss included, into RAM
 * at every system reset, a wake from S3 too.)
 */
#define WAKE_PML4 0x7000ull
#define WAKE_PDPT 0x8000ull
#define WAKE_PD   0x9000ull
#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

static void build_wake_page_tables(void)
{
    uint64_t *pml4 = (uint64_t *)WAKE_PML4, *pdpt = (uint64_t *)WAKE_PDPT, *pd = (uint64_t *)WAKE_PD;
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = WAKE_PDPT | PTE_P | PTE_RW;
    pdpt[0] = WAKE_PD | PTE_P | PTE_RW;
    for (uint64_t i = 0; i < 512; i++)
        pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

static uint64_t kernel_cr3;

/* Back in long mode after S3 (resume=long), on the waking routine's page
 * tables and stack; every device was reset. Nothing in the kernel's
 * memory is trusted before the marker says it was kept. */
static NORETURN void s3_resumed(void)
{
    serial_init();
    if (s3_marker != S3_MARKER) {
        kprintf("s3 resumed memory=LOST marker=0x%lx\n", s3_marker);
        fail("s3 the kernel's memory was not kept across suspend");
    }
    __asm__ volatile("mov %0, %%cr3" :: "r"(kernel_cr3) : "memory");
    idt_load();
    const struct acpi_pm *pm = &resume_pm;
    uint16_t sts = inw(pm->pm1a_evt), en = inw(pm->pm1a_evt + pm->pm1_evt_len / 2);
    uint16_t cnt = inw(pm->pm1a_cnt);
    bool kept = kernel_image_sum() == image_sum;
    kprintf("s3 resumed pm1_sts=0x%x wak_sts=%d rtc_sts=%d pm1_en=0x%x pm1_cnt=0x%x memory=%s\n", sts,
            (sts & PM1_STS_WAK) != 0, (sts & PM1_STS_RTC) != 0, en, cnt, kept ? "kept" : "CHANGED");
    outw(pm->pm1a_evt, PM1_STS_WAK | PM1_STS_RTC);     /* write 1 to clear */
    if (!kept)
        fail("s3 the kernel image changed across suspend");
    if (!(sts & PM1_STS_WAK))
        fail("s3 resumed without PM1_STS.WAK_STS");
    exit_pass();
}

/* Status A with the index already on it: one port access, one exit, per read. */
static bool uip(void)
{
    return inb(CMOS_DATA) & RTC_A_UIP;
}

/*
 * Spins until UIP is set (status A preselected, and selected again on return). False when the
 * seconds moved on first: an update came and went between two reads, as under a nested KVM,
 * where one read can cost more than UIP's 244 us (this spun for ever there).
 */
static bool until_uip(void)
{
    uint8_t second = cmos_read(0x00);
    outb(CMOS_INDEX, RTC_STATUS_A);
    for (unsigned n = 1;; n++) {
        if (uip())
            return true;
        if (n % 8 == 0) {
            bool moved = cmos_read(0x00) != second;
            outb(CMOS_INDEX, RTC_STATUS_A);
            if (moved)
                return false;
        }
    }
}

/* Spins until an update has ended, seen or not (status A preselected). */
static void until_an_update_ends(void)
{
    if (until_uip())
        while (uip())
            ;
}

/* PM1_CNT with SLP_TYP and SLP_EN: the one write alarm=edge and alarm=past sleep with. */
static uint16_t slp_en_value(const struct acpi_pm *pm, int slp_typ)
{
    uint16_t cnt = inw(pm->pm1a_cnt) & ~(PM1_CNT_SLP_TYP_MASK | PM1_CNT_SLP_EN);
    return cnt | (uint16_t)(slp_typ << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN;
}

/* The wake event: the alarm in `seconds`, its status cleared, and RTC_EN where the FADT puts it in PM1. */
static void arm_wake(const struct acpi_pm *pm, unsigned seconds, uint16_t en_port, bool rtc_en)
{
    rtc_arm_alarm(seconds);
    outw(pm->pm1a_evt, PM1_STS_WAK | PM1_STS_RTC);
    if (rtc_en)
        outw(en_port, inw(en_port) | PM1_EN_RTC);
}

/*
 * alarm=edge: how many reads of status A see UIP in one update's 244 us
 * before it, on this machine. A guest that reads it fewer than 3 times
 * there is too slow to be sure of writing SLP_EN before the update.
 */
static unsigned uip_reads(void)
{
    outb(CMOS_INDEX, RTC_STATUS_A);
    while (uip())
        ;
    if (!until_uip())
        return 0;
    unsigned n = 1;
    while (uip())
        n++;
    return n;
}

/*
 * alarm=edge: the alarm at the next update, and SLP_EN in one write as soon
 * as UIP says that update is at most 244 us away. The alarm then fires
 * while the VMM is still stopping the vCPUs for S3: a wake event it must
 * not lose. Returns only if the guest is too slow here to be that early.
 */
static void sleep_at_the_alarm_edge(const struct acpi_pm *pm, int slp_typ, uint16_t en_port, bool rtc_en)
{
    unsigned reads = 0, tries = 0;
    while (reads < 3 && tries < 5) {    /* a loaded host may be slow for a second or two */
        reads = uip_reads();            /* ends right after an update */
        tries++;
    }
    if (reads < 3) {
        kprintf("s3 alarm=edge too slow here: %u reads of UIP before an update in %u tries; the alarm comes ahead\n",
                reads, tries);
        return;
    }
    arm_wake(pm, 1, en_port, rtc_en);
    uint16_t cnt = slp_en_value(pm, slp_typ);
    kprintf("s3 alarm=edge uip_reads=%u tries=%u\n", reads, tries);
    kprintf("s3 now\n");
    __asm__ volatile("wbinvd" ::: "memory");
    outb(CMOS_INDEX, RTC_STATUS_A);
    until_uip();                        /* missed, SLP_EN comes just after the alarm: it still wakes */
    outw(pm->pm1a_cnt, cnt);
    wait_then_fail("s3 did not suspend", 10);
}

/*
 * alarm=past: the alarm at the next update, and SLP_EN only once that
 * update is over, without reading status C: the RTC's interrupt is raised
 * when the guest suspends. The chipset counts such a wake event and wakes
 * at once; a VMM that only listens for alarms after SLP_EN never wakes it.
 */
static void sleep_after_the_alarm(const struct acpi_pm *pm, int slp_typ, uint16_t en_port, bool rtc_en)
{
    outb(CMOS_INDEX, RTC_STATUS_A);
    until_an_update_ends();
    arm_wake(pm, 1, en_port, rtc_en);
    kprintf("s3 alarm=past\n");
    kprintf("s3 now\n");
    __asm__ volatile("wbinvd" ::: "memory");
    outb(CMOS_INDEX, RTC_STATUS_A);
    until_an_update_ends();
    outw(pm->pm1a_cnt, slp_en_value(pm, slp_typ));
    wait_then_fail("s3 did not suspend", 10);
}

void sleep_s3(const struct acpi_pm *pm, uint64_t facs_addr, int slp_typ, bool resume_long, enum s3_alarm alarm)
{
    struct acpi_facs *facs = (struct acpi_facs *)facs_addr;
    if (!facs) {
        problem("s3 needs a FACS for the waking vector");
        return;
    }
    memcpy((void *)WAKE_ADDR, wake_start, (size_t)(wake_end - wake_start));
    build_wake_page_tables();
    kernel_cr3 = read_cr3();
    *(uint64_t *)wake_field(wake_cr3) = WAKE_PML4;
    *(uint64_t *)wake_field(wake_stack) = (uint64_t)(resume_stack + sizeof(resume_stack));
    *(uint64_t *)wake_field(wake_entry) = (uint64_t)s3_resumed;
    *(uint8_t *)wake_field(wake_long) = resume_long;
    resume_pm = *pm;
    s3_marker = S3_MARKER;
    image_sum = kernel_image_sum();

    facs->firmware_waking_vector = (uint32_t)WAKE_ADDR;
    facs->x_firmware_waking_vector = 0;
    kprintf("s3 slp_typ=%d waking_vector=0x%x facs=0x%lx resume=%s\n", slp_typ, facs->firmware_waking_vector,
            facs_addr, resume_long ? "long" : "real");

    uint16_t en_port = pm->pm1a_evt + pm->pm1_evt_len / 2;
    bool rtc_en = !(pm->fadt_flags & FADT_F_FIX_RTC);
    if (alarm == S3_ALARM_EDGE)
        sleep_at_the_alarm_edge(pm, slp_typ, en_port, rtc_en);
    if (alarm == S3_ALARM_PAST)
        sleep_after_the_alarm(pm, slp_typ, en_port, rtc_en);
    arm_wake(pm, alarm == S3_ALARM_FAR ? WAKE_FAR_SECONDS : WAKE_AHEAD_SECONDS, en_port, rtc_en);
    kprintf("s3 rtc_en=%d pm1_sts=0x%x pm1_en=0x%x\n", rtc_en, inw(pm->pm1a_evt), inw(en_port));

    kprintf("s3 now\n");
    __asm__ volatile("wbinvd" ::: "memory");
    sleep_enter(pm, slp_typ);
    wait_then_fail("s3 did not suspend", 10);
}
