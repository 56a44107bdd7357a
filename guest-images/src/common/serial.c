/*
 * serial.c - COM1 as a polled 16550: 115200 8N1, DTR|RTS|OUT2.
 * Every byte goes to THR only after LSR.THRE (bit 5) is set.
 */
#include "lib.h"

#define THR 0   /* transmit holding (write), receive buffer (read); DLL with DLAB */
#define IER 1   /* DLM with DLAB */
#define LCR 3
#define MCR 4
#define LSR 5

#define LSR_DR   0x01
#define LSR_THRE 0x20

/* FCR is deliberately not written: changing the FIFO-enable bit flushes
 * both FIFOs (16550 behaviour, QEMU's too), and input that arrived before
 * the kernel started (a test may type early) would be lost. The FIFOs stay
 * as the firmware / VMM left them; both modes work for polled output and for
 * the echo kernel's drain-until-empty receive. */
void serial_init(void)
{
    outb(COM1 + IER, 0x00);     /* no interrupts (the echo kernel enables RX later) */
    outb(COM1 + LCR, 0x80);     /* DLAB */
    outb(COM1 + THR, 0x01);     /* divisor 1: 115200 baud */
    outb(COM1 + IER, 0x00);
    outb(COM1 + LCR, 0x03);     /* 8N1 */
    outb(COM1 + MCR, 0x0b);     /* DTR, RTS, OUT2 (OUT2 gates the IRQ line on a PC) */
}

void serial_putc_raw(char c)
{
    while (!(inb(COM1 + LSR) & LSR_THRE))
        pause();
    outb(COM1 + THR, (uint8_t)c);
}

int serial_getc(void)
{
    if (!(inb(COM1 + LSR) & LSR_DR))
        return -1;
    return inb(COM1 + THR);
}
