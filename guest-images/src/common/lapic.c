/*
 * lapic.c - this CPU's local APIC in xAPIC mode (MMIO at the base from
 * IA32_APIC_BASE, 0xFEE00000 by default, inside the uncached 3-4 GiB part
 * of the identity map).
 */
#include "kernel.h"

#define IA32_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ull << 11)

#define ICR_PENDING     (1u << 12)
#define ICR_INIT        (5u << 8)
#define ICR_STARTUP     (6u << 8)
#define ICR_LEVEL       (1u << 15)
#define ICR_ASSERT      (1u << 14)

#define LVT_EXTINT (7u << 8)
#define LVT_NMI    (4u << 8)

uint64_t lapic_base(void)
{
    return rdmsr(IA32_APIC_BASE) & 0x000ffffffffff000ull;
}

uint32_t lapic_read(uint32_t reg)
{
    return mmio_read32(lapic_base() + reg);
}

void lapic_write(uint32_t reg, uint32_t value)
{
    mmio_write32(lapic_base() + reg, value);
}

uint32_t lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

static void ignore_spurious(struct int_frame *f)
{
    (void)f;    /* spurious vectors need no EOI */
}

void lapic_enable(void)
{
    uint64_t msr = rdmsr(IA32_APIC_BASE);
    if (!(msr & APIC_BASE_ENABLE))
        wrmsr(IA32_APIC_BASE, msr | APIC_BASE_ENABLE);
    idt_set_handler(LAPIC_SPURIOUS_VECTOR, ignore_spurious);
    lapic_write(LAPIC_SVR, 0x100 | LAPIC_SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
}

void lapic_virtual_wire(void)
{
    lapic_write(LAPIC_LVT0, LVT_EXTINT);
    lapic_write(LAPIC_LVT1, LVT_NMI);
}

static void icr_send(uint32_t apic_id, uint32_t low)
{
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, low);
    while (lapic_read(LAPIC_ICR_LO) & ICR_PENDING)
        pause();
}

void lapic_send_init(uint32_t apic_id)
{
    icr_send(apic_id, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
    icr_send(apic_id, ICR_INIT | ICR_LEVEL);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page_number)
{
    icr_send(apic_id, ICR_STARTUP | page_number);
}
