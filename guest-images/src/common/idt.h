/*
 * idt.h - the interrupt descriptor table. Every vector has a stub (isr.S)
 * that saves the registers and calls isr_dispatch; a vector without a
 * handler is fatal: an exception prints
 *   fail exception vector=<n> name=<#XX> error=0x<e> rip=0x<r> cr2=0x<c> rsp=0x<s> apic=<id>
 * and an unexpected interrupt prints
 *   fail unexpected interrupt vector=<n> apic=<id>
 * both followed by EXIT_FAIL.
 */
#ifndef JKVM_IDT_H
#define JKVM_IDT_H

#include "x86.h"

/* The stack as isr.S leaves it (lowest address first). */
struct int_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

typedef void (*int_handler)(struct int_frame *frame);

/* Fills the IDT and loads it on this CPU. */
void idt_init(void);
/* Loads the (already filled) IDT on another CPU. */
void idt_load(void);
void idt_set_handler(uint8_t vector, int_handler handler);

#endif
