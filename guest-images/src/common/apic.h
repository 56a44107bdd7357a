/*
 * apic.h - local APIC (xAPIC MMIO, base from IA32_APIC_BASE; identity-mapped)
 * and I/O APIC access.
 */
#ifndef JKVM_APIC_H
#define JKVM_APIC_H

#include "x86.h"

#define LAPIC_ID      0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR     0x080
#define LAPIC_EOI     0x0b0
#define LAPIC_SVR     0x0f0
#define LAPIC_ESR     0x280
#define LAPIC_ICR_LO  0x300
#define LAPIC_ICR_HI  0x310
#define LAPIC_LVT0    0x350
#define LAPIC_LVT1    0x360

#define LAPIC_SPURIOUS_VECTOR 0xff

uint64_t lapic_base(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
/* Globally (MSR) and software (SVR) enables this CPU's local APIC, TPR 0;
 * vector 0xff (spurious) gets a handler that ignores it. */
void lapic_enable(void);
/* LVT0 = ExtINT, LVT1 = NMI: the 8259 PIC's INTR reaches this CPU ("virtual
 * wire" mode, what a BIOS sets up on the BSP). */
void lapic_virtual_wire(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* INIT (assert, then de-assert) to one APIC ID. */
void lapic_send_init(uint32_t apic_id);
/* STARTUP IPI: the target starts in real mode at page_number * 4096. */
void lapic_send_sipi(uint32_t apic_id, uint8_t page_number);

#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_LEVEL      (1u << 15)
#define IOAPIC_ACTIVE_LOW (1u << 13)
#define IOAPIC_MASKED     (1u << 16)

uint32_t ioapic_read(uint64_t base, uint32_t reg);
void ioapic_write(uint64_t base, uint32_t reg, uint32_t value);
uint32_t ioapic_pin_count(uint64_t base);
/* Redirection entry: fixed delivery, physical destination apic_id;
 * flags: IOAPIC_LEVEL / IOAPIC_ACTIVE_LOW / IOAPIC_MASKED. */
void ioapic_route(uint64_t base, uint32_t pin, uint8_t vector, uint32_t apic_id, uint32_t flags);
void ioapic_mask(uint64_t base, uint32_t pin);

#endif
