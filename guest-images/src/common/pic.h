/*
 * pic.h - the two cascaded 8259A PICs (master 0x20/0x21, slave 0xa0/0xa1).
 */
#ifndef JKVM_PIC_H
#define JKVM_PIC_H

#include "x86.h"

/* Re-initialises both PICs (ICW1-4): IRQ 0-7 -> master_base..+7, IRQ 8-15 ->
 * slave_base..+7, all masked; spurious IRQ 7/15 are then ignored. */
void pic_remap(uint8_t master_base, uint8_t slave_base);
void pic_mask_all(void);
void pic_unmask(unsigned irq);   /* also unmasks the cascade (IRQ 2) for 8-15 */
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);
/* In-service register: bit n = IRQ n. */
uint16_t pic_isr(void);

#endif
