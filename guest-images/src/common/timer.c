/*
 * timer.c - 8254 PIT and CMOS RTC.
 */
#include "kernel.h"


#define PIT_CH0  0x40
#define PIT_CH2  0x42
#define PIT_CMD  0x43
#define PORT_61  0x61   /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */

void pit_periodic(unsigned hz)
{
    unsigned divisor = (PIT_HZ + hz / 2) / hz;
    if (divisor > 65535)
        divisor = 0;        /* 0 means 65536 */
    outb(PIT_CMD, 0x34);    /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH0, divisor & 0xff);
    outb(PIT_CH0, divisor >> 8);
}

/* One mode-0 countdown of at most 65535 ticks (~54.9 ms). */
static void pit_wait_ticks(uint32_t ticks)
{
    uint8_t p61 = inb(PORT_61);
    outb(PORT_61, (p61 & ~0x03) | 0x00);   /* gate low, speaker off */
    outb(PIT_CMD, 0xb0);                   /* channel 2, lobyte/hibyte, mode 0 */
    outb(PIT_CH2, ticks & 0xff);
    outb(PIT_CH2, (ticks >> 8) & 0xff);
    outb(PORT_61, (p61 & ~0x02) | 0x01);   /* gate high: counting starts */
    /* A VMM without a PIT would leave OUT2 low forever: give up after 2^34
     * TSC cycles (seconds at any clock rate) with a clear line. */
    uint64_t start = rdtsc();
    while (!(inb(PORT_61) & 0x20)) {
        if (rdtsc() - start > (1ull << 34))
            fail("PIT channel 2 does not count (port 0x61 bit 5 never set)");
        pause();
    }
    outb(PORT_61, p61 & ~0x03);
}

void pit_delay_us(uint32_t us)
{
    uint64_t ticks = ((uint64_t)us * PIT_HZ + 999999) / 1000000;
    while (ticks) {
        uint32_t chunk = ticks > 65535 ? 65535 : (uint32_t)ticks;
        if (chunk < 2)
            chunk = 2;
        pit_wait_ticks(chunk);
        ticks = ticks > chunk ? ticks - chunk : 0;
    }
}

uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg & 0x7f);
    return inb(CMOS_DATA);
}

void cmos_write(uint8_t reg, uint8_t value)
{
    outb(CMOS_INDEX, reg & 0x7f);
    outb(CMOS_DATA, value);
}

static void wait_not_updating(void)
{
    while (cmos_read(RTC_STATUS_A) & 0x80)   /* UIP */
        pause();
}

struct raw_time {
    uint8_t sec, min, hour, wday, day, mon, year, century;
};

static void read_raw(struct raw_time *r)
{
    wait_not_updating();
    r->sec = cmos_read(0x00);
    r->min = cmos_read(0x02);
    r->hour = cmos_read(0x04);
    r->wday = cmos_read(0x06);
    r->day = cmos_read(0x07);
    r->mon = cmos_read(0x08);
    r->year = cmos_read(0x09);
    r->century = cmos_read(RTC_CENTURY);
}

/* A register value as a number: BCD unless status B says binary (DM bit). */
static unsigned decode(uint8_t v, bool binary)
{
    return binary ? v : (v >> 4) * 10 + (v & 0x0f);
}

void rtc_read(struct rtc_time *t)
{
    struct raw_time a, b;
    /* Two identical reads in a row cannot straddle an update. */
    read_raw(&a);
    for (;;) {
        read_raw(&b);
        if (memcmp(&a, &b, sizeof(a)) == 0)
            break;
        a = b;
    }
    uint8_t status_b = cmos_read(RTC_STATUS_B);
    bool binary = status_b & 0x04;
    bool hours24 = status_b & 0x02;
    bool pm = !hours24 && (a.hour & 0x80);
    t->second = decode(a.sec, binary);
    t->minute = decode(a.min, binary);
    t->hour = decode(hours24 ? a.hour : (a.hour & 0x7f), binary);
    t->weekday = decode(a.wday, binary);
    t->day = decode(a.day, binary);
    t->month = decode(a.mon, binary);
    unsigned century = decode(a.century, binary);
    if (!hours24) {
        /* 12-hour mode: 12 AM is 0:xx, 12 PM is 12:xx. */
        if (t->hour == 12)
            t->hour = 0;
        if (pm)
            t->hour += 12;
    }
    if (century < 19 || century > 99)
        century = 20;
    t->year = century * 100 + decode(a.year, binary);
}

unsigned rtc_seconds(void)
{
    wait_not_updating();
    uint8_t s = cmos_read(0x00);
    return decode(s, cmos_read(RTC_STATUS_B) & 0x04);
}

void rtc_wait_second_edge(void)
{
    unsigned s = rtc_seconds();
    while (rtc_seconds() == s)
        pause();
}
