/*
 * echo - interrupt-driven COM1 receive. Routes IRQ 4 (via=pic, default, or
 * via=ioapic), enables the UART's received-data interrupt (IER bit 0; OUT2
 * is set by serial_init) and sleeps in sti; hlt. Prints "echo ready" first;
 * each received line (ended by CR or LF; empty lines are skipped; at most
 * 200 characters, longer ones are cut) comes back upper-cased as
 *   echo: <LINE>
 * The line "quit" is echoed too, then the kernel prints "echo bye" and passes.
 */
#include "kernel.h"

#define RING 1024
#define LINE_MAX 200
#define IER 1
#define IIR 2

static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail;   /* written by IRQ / by main */

static void on_com1(struct int_frame *f)
{
    (void)f;
    int c;
    while ((c = serial_getc()) >= 0) {
        uint32_t next = (ring_head + 1) % RING;
        if (next != ring_tail) {    /* full: drop */
            ring[ring_head] = (uint8_t)c;
            ring_head = next;
        }
    }
    (void)inb(COM1 + IIR);          /* acknowledge whatever else is pending */
}

/* Next received byte; sleeps until one arrives. */
static char next_char(void)
{
    cli();
    while (ring_tail == ring_head) {
        sti_hlt();
        cli();
    }
    char c = (char)ring[ring_tail];
    ring_tail = (ring_tail + 1) % RING;
    sti();
    return c;
}

int kmain(uint32_t mbinfo)
{
    (void)mbinfo;
    enum irq_via via = irq_via_from_cmdline();
    irq_enable(via, 4, on_com1);
    outb(COM1 + IER, 0x01);     /* received data available */
    on_com1(NULL);              /* bytes that arrived before the interrupt was on */
    sti();
    kprintf("echo ready\n");

    char line[LINE_MAX + 1];
    size_t len = 0;
    for (;;) {
        char c = next_char();
        if (c != '\r' && c != '\n') {
            if (len < LINE_MAX)
                line[len++] = (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
            continue;
        }
        if (len == 0)
            continue;
        line[len] = '\0';
        kprintf("echo: %s\n", line);
        if (strcmp(line, "QUIT") == 0)
            break;
        len = 0;
    }
    cli();
    kprintf("echo bye\n");
    return 0;
}
