/* cpuinfo.h - the parts of the cpuinfo kernel. */
#ifndef CPUINFO_H
#define CPUINFO_H

#include "kernel.h"

/* Space-separated /proc/cpuinfo names of this CPU's feature bits. */
void cpu_flags(char *buf, size_t size);
/* The "cpu apic=... flags=..." line of this CPU (no newline). */
void cpu_describe(char *buf, size_t size);
/* This CPU's /proc/cpuinfo block (Linux's field names, ending in a blank line), numbered processor. */
void cpu_proc_block(unsigned processor, char *buf, size_t size);
/* "hv vendor=..." when CPUID.1:ECX[31] (hypervisor) is set, else nothing. */
void print_hypervisor(void);

/* ap_trampoline.S: copied to AP_TRAMPOLINE (below 1 MiB, 4 KiB aligned). */
#define AP_TRAMPOLINE 0x8000
extern char ap_trampoline_start[], ap_trampoline_end[];
extern char ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_entry[];
/* The 64-bit code the trampoline jumps to, on the AP's own stack. */
void ap_main(void);

#endif
