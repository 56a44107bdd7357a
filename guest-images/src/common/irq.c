/*
 * irq.c - one ISA IRQ to a handler, through the PIC or the I/O APIC.
 */
#include "kernel.h"

#define PIC_VECTOR_BASE    0x20
#define IOAPIC_VECTOR_BASE 0x30

#define IMCR_SELECT 0x22
#define IMCR_DATA   0x23

struct irq_slot {
    int_handler handler;
    unsigned irq;
    enum irq_via via;
};

static struct irq_slot slots[16];
static bool pic_ready;

enum irq_via irq_via_from_cmdline(void)
{
    const char *v = cmdline_get("via");
    if (!v || strcmp(v, "pic") == 0)
        return IRQ_VIA_PIC;
    if (strcmp(v, "ioapic") == 0)
        return IRQ_VIA_IOAPIC;
    fail("cmdline via=%s: expected pic or ioapic", v);
}

const char *irq_via_name(enum irq_via via)
{
    return via == IRQ_VIA_PIC ? "pic" : "ioapic";
}

static void irq_entry(struct int_frame *f)
{
    unsigned irq = (f->vector >= IOAPIC_VECTOR_BASE ? f->vector - IOAPIC_VECTOR_BASE
                                                    : f->vector - PIC_VECTOR_BASE) & 15;
    struct irq_slot *s = &slots[irq];
    s->handler(f);
    if (s->via == IRQ_VIA_PIC)
        pic_eoi(irq);
    else
        lapic_eoi();
}

void irq_enable(enum irq_via via, unsigned irq, int_handler handler)
{
    if (irq > 15)
        fail("irq_enable: ISA IRQ %u out of range", irq);
    /* Both ways start from a remapped, fully masked PIC so that no 8259
     * vector can collide with a CPU exception. */
    if (!pic_ready) {
        pic_remap(PIC_VECTOR_BASE, PIC_VECTOR_BASE + 8);
        pic_ready = true;
    }
    lapic_enable();
    slots[irq] = (struct irq_slot){ handler, irq, via };
    if (via == IRQ_VIA_PIC) {
        uint8_t vector = PIC_VECTOR_BASE + irq;
        lapic_virtual_wire();
        idt_set_handler(vector, irq_entry);
        pic_unmask(irq);
        kprintf("irq %u via=pic vector=0x%x\n", irq, vector);
        return;
    }
    const struct mp_info *mp = mp_info();
    if (mp->found && mp->imcr) {
        outb(IMCR_SELECT, 0x70);    /* IMCR: route INTR/NMI to the APICs (symmetric mode) */
        outb(IMCR_DATA, 0x01);
    }
    struct isa_route r = mp_isa_route(irq);
    uint8_t vector = IOAPIC_VECTOR_BASE + irq;
    idt_set_handler(vector, irq_entry);
    ioapic_route(r.ioapic_addr, r.pin, vector, lapic_id(),
                 (r.level ? IOAPIC_LEVEL : 0) | (r.active_low ? IOAPIC_ACTIVE_LOW : 0));
    kprintf("irq %u via=ioapic ioapic=0x%x pin=%u vector=0x%x level=%d low=%d source=%s\n",
            irq, r.ioapic_addr, r.pin, vector, r.level, r.active_low,
            r.from_table ? "mptable" : "default");
}
