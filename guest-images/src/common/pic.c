/*
 * pic.c - the 8259A pair, re-initialised in cascade mode with 8086 vectors.
 */
#include "kernel.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define OCW3_READ_ISR 0x0b
#define EOI 0x20

static uint8_t master_vector_base = 0x08, slave_vector_base = 0x70;

static void spurious_or_fail(struct int_frame *f)
{
    /* IRQ 7 / 15 without the in-service bit is the 8259's spurious
     * interrupt: no EOI for the master (for the slave, the master saw a
     * real IRQ 2 and needs one). Anything else here was never enabled. */
    unsigned irq = f->vector == master_vector_base + 7u ? 7 : 15;
    if (pic_isr() & (1u << irq))
        fail("unexpected interrupt vector=%lu (PIC IRQ %u) apic=%u", f->vector, irq,
             initial_apic_id());
    if (irq == 15)
        outb(PIC1_CMD, EOI);
}

void pic_remap(uint8_t master_base, uint8_t slave_base)
{
    outb(PIC1_CMD, 0x11);           /* ICW1: edge, cascade, ICW4 follows */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, master_base);   /* ICW2: vector base */
    outb(PIC2_DATA, slave_base);
    outb(PIC1_DATA, 0x04);          /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 0x02);          /*       slave identity 2 */
    outb(PIC1_DATA, 0x01);          /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    pic_mask_all();
    master_vector_base = master_base;
    slave_vector_base = slave_base;
    idt_set_handler(master_base + 7, spurious_or_fail);
    idt_set_handler(slave_base + 7, spurious_or_fail);
}

void pic_mask_all(void)
{
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void pic_unmask(unsigned irq)
{
    if (irq >= 8) {
        outb(PIC2_DATA, inb(PIC2_DATA) & ~(1u << (irq - 8)));
        irq = 2;
    }
    outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << irq));
}

void pic_mask(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_DATA, inb(PIC2_DATA) | (1u << (irq - 8)));
    else
        outb(PIC1_DATA, inb(PIC1_DATA) | (1u << irq));
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, EOI);
    outb(PIC1_CMD, EOI);
}

uint16_t pic_isr(void)
{
    outb(PIC1_CMD, OCW3_READ_ISR);
    outb(PIC2_CMD, OCW3_READ_ISR);
    return (uint16_t)(inb(PIC1_CMD) | (inb(PIC2_CMD) << 8));
}
