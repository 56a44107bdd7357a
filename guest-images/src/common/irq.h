/*
 * irq.h - routes one ISA IRQ to a handler, either through the 8259 PIC or
 * through the I/O APIC (pin and polarity from the MP table's interrupt
 * entries; without an entry, pin = IRQ except IRQ 0 -> pin 2, as in the MP
 * default configurations). The kernel's command line chooses:
 * via=pic (default) or via=ioapic.
 */
#ifndef JKVM_IRQ_H
#define JKVM_IRQ_H

#include "idt.h"

enum irq_via { IRQ_VIA_PIC, IRQ_VIA_IOAPIC };

/* "via=" from the command line; fails the run on another value. */
enum irq_via irq_via_from_cmdline(void);
const char *irq_via_name(enum irq_via via);

/* Installs `handler` for ISA `irq` and unmasks it. The handler runs with
 * interrupts off; the EOI is sent after it returns. Vectors: 0x20+irq (PIC)
 * or 0x30+irq (I/O APIC). Prints one line describing the route:
 *   irq <n> via=pic vector=0x20
 *   irq <n> via=ioapic ioapic=0x<addr> pin=<p> vector=0x30 level=<0|1> low=<0|1> */
void irq_enable(enum irq_via via, unsigned irq, int_handler handler);

#endif
