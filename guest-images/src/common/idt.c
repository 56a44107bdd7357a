/*
 * idt.c - the IDT (256 interrupt gates to the isr.S stubs) and the C side
 * of interrupt dispatch: registered handlers, else a fatal report.
 */
#include "kernel.h"

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t zero;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#define CODE64_SEL 0x08
#define GATE_INTERRUPT_PRESENT 0x8e    /* P=1, DPL=0, 64-bit interrupt gate */

extern char isr_stubs[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static int_handler handlers[256];

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
    "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
    "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

void idt_load(void)
{
    struct idt_pointer p = { .limit = sizeof(idt) - 1, .base = (uint64_t)idt };
    __asm__ volatile("lidt %0" :: "m"(p));
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        uint64_t addr = (uint64_t)isr_stubs + 16 * v;
        idt[v] = (struct idt_gate){
            .offset_lo = (uint16_t)addr,
            .selector = CODE64_SEL,
            .type_attr = GATE_INTERRUPT_PRESENT,
            .offset_mid = (uint16_t)(addr >> 16),
            .offset_hi = (uint32_t)(addr >> 32),
        };
    }
    idt_load();
}

void idt_set_handler(uint8_t vector, int_handler handler)
{
    handlers[vector] = handler;
}

void isr_dispatch(struct int_frame *f);

void isr_dispatch(struct int_frame *f)
{
    int_handler h = handlers[f->vector & 0xff];
    if (h) {
        h(f);
        return;
    }
    /* Fatal: make sure the report gets out even if this CPU (or another)
     * was interrupted while holding the console. */
    console_break_lock();
    if (f->vector < 32)
        fail("exception vector=%lu name=%s error=0x%lx rip=0x%lx cr2=0x%lx rsp=0x%lx apic=%u",
             f->vector, exception_names[f->vector], f->error, f->rip, read_cr2(), f->rsp,
             initial_apic_id());
    fail("unexpected interrupt vector=%lu apic=%u", f->vector, initial_apic_id());
}
