/*
 * reboot - tries the four usual ways to reset a PC, one per boot.
 * CMOS byte 0x40 (unused by QEMU's and SeaBIOS' CMOS layout) counts boots:
 * a value above 4 counts as 0. Each boot increments it and prints
 *   boot <n>
 * then, for n = 1..4, prints "reset method=<n> name=<name>" and resets by
 *   1 i8042   0xfe to port 0x64 (keyboard controller pulses RESET)
 *   2 port92  port 0x92 bit 0 from 0 to 1 (fast reset)
 *   3 cf9     0x06 to port 0xcf9 (reset control register: hard reset)
 *   4 triple  empty IDT + ud2 (or int3 with fault=int3) -> triple fault
 * If the machine is still running two RTC seconds later: "fail reset
 * method=<n> did not reset", EXIT_FAIL. Boot 5 prints "all resets done",
 * sets the counter back to 0 and passes.
 * Command line: only=<n> resets by method n on every boot, once:
 * boot 1 resets, boot 2 prints "all resets done" (tests one method);
 * fault=int3|ud2 picks the instruction of method 4 (default ud2).
 */
#include "kernel.h"

#define BOOT_COUNTER 0x40

static const char *const method_names[] = { "", "i8042", "port92", "cf9", "triple" };

static void reset_i8042(void)
{
    for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)   /* input buffer full */
        pause();
    outb(0x64, 0xfe);
}

static void reset_port92(void)
{
    uint8_t v = inb(0x92);
    outb(0x92, v & ~0x01);
    outb(0x92, v | 0x01);
}

static void reset_cf9(void)
{
    outb(0xcf9, 0x06);
}

/* ud2 by default: on some KVM hosts (kvm_pvm) a software interrupt such as
 * int3 is run by KVM's instruction emulator, which reports an emulation
 * failure for the empty IDT instead of a triple fault. fault=int3 on the
 * command line uses int3 all the same. */
static void reset_triple_fault(bool use_int3)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) empty = { 0, 0 };
    if (use_int3)
        __asm__ volatile("lidt %0; int3" :: "m"(empty));
    else
        __asm__ volatile("lidt %0; ud2" :: "m"(empty));
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    uint64_t only = cmdline_u64("only", 0);
    if (only > 4)
        fail("cmdline only=%lu: expected 1..4", only);
    const char *fault = cmdline_get("fault");
    if (fault && strcmp(fault, "int3") != 0 && strcmp(fault, "ud2") != 0)
        fail("cmdline fault=%s: expected ud2 or int3", fault);
    bool triple_by_int3 = fault && strcmp(fault, "int3") == 0;
    uint8_t n = cmos_read(BOOT_COUNTER);
    if (n > 4)
        n = 0;
    n++;
    cmos_write(BOOT_COUNTER, n);
    kprintf("boot %u\n", n);
    unsigned method = only ? (n == 1 ? only : 0) : (n <= 4 ? n : 0);
    if (!method) {
        cmos_write(BOOT_COUNTER, 0);
        kprintf("all resets done\n");
        return 0;
    }
    kprintf("reset method=%u name=%s\n", method, method_names[method]);
    switch (method) {
    case 1: reset_i8042(); break;
    case 2: reset_port92(); break;
    case 3: reset_cf9(); break;
    case 4: reset_triple_fault(triple_by_int3); break;
    }
    rtc_wait_second_edge();
    rtc_wait_second_edge();
    fail("reset method=%u did not reset", method);
}
