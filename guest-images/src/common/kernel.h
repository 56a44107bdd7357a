/*
 * kernel.h - everything a test kernel includes. A kernel is a directory
 * src/<name>/ with a KERNEL marker file and a C file defining
 *
 *     int kmain(uint32_t mbinfo)     // 0 -> EXIT_PASS, else EXIT_FAIL
 *
 * which runs in 64-bit mode on the BSP after kinit (COM1, IDT, Multiboot info
 * copied, command line parsed). See README.md for the boot environment.
 */
#ifndef JKVM_KERNEL_H
#define JKVM_KERNEL_H

#include "x86.h"
#include "spinlock.h"
#include "lib.h"
#include "boot.h"
#include "idt.h"
#include "apic.h"
#include "pic.h"
#include "irq.h"
#include "mptable.h"
#include "timer.h"

#endif
