/*
 * ioapic.c - I/O APIC: index register at base+0x00, data window at base+0x10.
 */
#include "kernel.h"

#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPICVER 0x01
#define IOREDTBL(pin) (0x10 + 2 * (pin))

uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
    mmio_write32(base + IOREGSEL, reg);
    return mmio_read32(base + IOWIN);
}

void ioapic_write(uint64_t base, uint32_t reg, uint32_t value)
{
    mmio_write32(base + IOREGSEL, reg);
    mmio_write32(base + IOWIN, value);
}

uint32_t ioapic_pin_count(uint64_t base)
{
    return ((ioapic_read(base, IOAPICVER) >> 16) & 0xff) + 1;
}

void ioapic_route(uint64_t base, uint32_t pin, uint8_t vector, uint32_t apic_id, uint32_t flags)
{
    /* Mask while the two halves are inconsistent. */
    ioapic_write(base, IOREDTBL(pin), IOAPIC_MASKED);
    ioapic_write(base, IOREDTBL(pin) + 1, apic_id << 24);
    ioapic_write(base, IOREDTBL(pin), vector | flags);
}

void ioapic_mask(uint64_t base, uint32_t pin)
{
    ioapic_write(base, IOREDTBL(pin), ioapic_read(base, IOREDTBL(pin)) | IOAPIC_MASKED);
}
