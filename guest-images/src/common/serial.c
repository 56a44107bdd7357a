/*
 * serial.c - COM1 as a polled 16550: 115200 8N1, FIFOs on, DTR|RTS|OUT2.
 * Every byte goes to THR only after LSR.THRE (bit 5) is set.
 */
#include "lib.h"

#define THR 0   /* transmit holding (write), receive buffer (read); DLL with DLAB */
#define IER 1   /* DLM with DLAB */
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5

#define LSR_DR   0x01
#define LSR_THRE 0x20

/* Bytes that were waiting in the receiver before serial_init: enabling the
 * FIFOs flushes them (16550 behaviour), so they are saved here first and
 * handed out by serial_getc before anything newer. */
static uint8_t early_rx[16];
static unsigned early_rx_len, early_rx_pos;

void serial_init(void)
{
    outb(COM1 + IER, 0x00);     /* no interrupts (the echo kernel enables RX later) */
    while (early_rx_len < sizeof(early_rx) && (inb(COM1 + LSR) & LSR_DR))
        early_rx[early_rx_len++] = inb(COM1 + THR);
    outb(COM1 + LCR, 0x80);     /* DLAB */
    outb(COM1 + THR, 0x01);     /* divisor 1: 115200 baud */
    outb(COM1 + IER, 0x00);
    outb(COM1 + LCR, 0x03);     /* 8N1 */
    outb(COM1 + FCR, 0x07);     /* FIFOs on, both cleared, trigger level 1 */
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
    if (early_rx_pos < early_rx_len)
        return early_rx[early_rx_pos++];
    if (!(inb(COM1 + LSR) & LSR_DR))
        return -1;
    return inb(COM1 + THR);
}
