/*
 * rtc - reads the CMOS real-time clock once and prints
 *   rtc YYYY-MM-DD HH:MM:SS
 *   rtc weekday=<1-7> century=<cc> bcd=<0|1> 24h=<0|1>
 *   rtc status a=0x.. b=0x.. c=0x.. d=0x..
 * (date in 24-hour form whatever mode the RTC is in; status C is read last
 * because reading it clears its flags). Fails when status D says the RTC
 * lost power (VRT clear) or a field is out of range.
 */
#include "kernel.h"

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    struct rtc_time t;
    rtc_read(&t);
    uint8_t a = cmos_read(RTC_STATUS_A), b = cmos_read(RTC_STATUS_B);
    uint8_t d = cmos_read(RTC_STATUS_D), c = cmos_read(RTC_STATUS_C);
    kprintf("rtc %04u-%02u-%02u %02u:%02u:%02u\n", t.year, t.month, t.day, t.hour, t.minute,
            t.second);
    kprintf("rtc weekday=%u century=%u bcd=%d 24h=%d\n", t.weekday, t.year / 100,
            !(b & 0x04), (b & 0x02) != 0);
    kprintf("rtc status a=0x%02x b=0x%02x c=0x%02x d=0x%02x\n", a, b, c, d);
    if (!(d & 0x80))
        fail("rtc status D: VRT clear (RTC lost power)");
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59
        || t.second > 59)
        fail("rtc fields out of range");
    return 0;
}
