/*
 * mptable.h - the Intel MultiProcessor Specification 1.4 tables: the
 * floating pointer ("_MP_") is searched in the first KiB of the EBDA, the
 * last KiB of base memory and the BIOS ROM 0xF0000-0xFFFFF; the
 * configuration table ("PCMP") it points to is parsed and its checksums
 * verified.
 */
#ifndef JKVM_MPTABLE_H
#define JKVM_MPTABLE_H

#include "x86.h"

#define MP_MAX_CPUS    256
#define MP_MAX_BUSES   32
#define MP_MAX_IOAPICS 8
#define MP_MAX_IRQS    128

struct mp_cpu    { uint8_t apic_id, version; bool enabled, bsp; uint32_t signature, features; };
struct mp_bus    { uint8_t id; char type[7]; };
struct mp_ioapic { uint8_t id, version; bool enabled; uint32_t addr; };
/* Entry types 3 (I/O interrupt: dst = I/O APIC id, pin) and 4 (local
 * interrupt: dst = local APIC id or 0xff, LINTIN#). */
struct mp_irq    { uint8_t kind, src_bus, src_irq, dst_id, dst_pin; uint16_t flags; };

struct mp_info {
    bool found;                  /* a floating pointer with a good checksum */
    uint32_t fp_addr;
    uint8_t spec_rev;            /* 4 = 1.4 */
    uint8_t default_config;      /* feature byte 1: != 0 -> no table */
    bool imcr;                   /* feature byte 2 bit 7: IMCR present (PIC mode) */
    bool bad_fp_checksum;        /* a "_MP_" with a bad checksum was seen */
    uint32_t table_addr;
    bool table_ok;               /* "PCMP", base checksum good */
    bool ext_ok;                 /* extended table checksum good (or none) */
    uint16_t table_len, ext_len, entry_count;
    char oem[9], product[13];
    uint32_t lapic_addr;
    unsigned ncpus, nbuses, nioapics, nirqs, nlints, nunknown;
    struct mp_cpu cpus[MP_MAX_CPUS];
    struct mp_bus buses[MP_MAX_BUSES];
    struct mp_ioapic ioapics[MP_MAX_IOAPICS];
    struct mp_irq irqs[MP_MAX_IRQS];
    struct mp_irq lints[MP_MAX_IRQS];
};

/* Searches and parses once; later calls return the same result. */
const struct mp_info *mp_info(void);
/* The bus type of bus id ("ISA", "PCI", ...) or "?". */
const char *mp_bus_type(const struct mp_info *mp, uint8_t bus_id);

/* Where ISA `irq` arrives at an I/O APIC, from the I/O interrupt entries. */
struct isa_route {
    bool from_table;             /* false: default (pin = irq, IRQ 0 -> pin 2) */
    uint32_t ioapic_addr;
    uint32_t pin;
    bool level, active_low;
};
struct isa_route mp_isa_route(unsigned irq);

#endif
