/*
 * timer.h - the 8254 PIT (channel 0 periodic, channel 2 busy-wait delays)
 * and CMOS / RTC (MC146818) access.
 */
#ifndef JKVM_TIMER_H
#define JKVM_TIMER_H

#include "x86.h"

#define PIT_HZ 1193182u

/* Channel 0, mode 2 (rate generator), `hz` interrupts per second on IRQ 0. */
void pit_periodic(unsigned hz);
/* Busy-waits with channel 2 (gate via port 0x61, polls OUT2); no interrupts.
 * Fails the run if OUT2 never rises (no PIT). */
void pit_delay_us(uint32_t us);

uint8_t cmos_read(uint8_t reg);
void cmos_write(uint8_t reg, uint8_t value);

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_STATUS_C 0x0c
#define RTC_STATUS_D 0x0d
#define RTC_CENTURY  0x32

struct rtc_time {
    unsigned year, month, day, hour, minute, second, weekday;
};

/* Reads the date and time consistently (waits out UIP, repeats until two
 * reads agree), converting BCD and 12-hour mode as status B says;
 * the century comes from register 0x32 (20 if it reads as garbage). */
void rtc_read(struct rtc_time *t);
/* The seconds register as a binary number, read outside an update. */
unsigned rtc_seconds(void);
/* Returns at the start of the next RTC second. */
void rtc_wait_second_edge(void);

#endif
