/*
 * lib.h - the freestanding C library of the test kernels: memory/string
 * helpers, the console (COM1) and printf, and how a run ends.
 *
 * Exit protocol (QEMU's isa-debug-exit at port 0xf4; the VMM ends the run
 * with status (v << 1) | 1):
 *   EXIT_PASS 0x10 -> status 33: the kernel did everything it was asked
 *   EXIT_FAIL 0x11 -> status 35: a check failed, a CPU exception or an
 *                      unexpected interrupt happened; a line starting with
 *                      "fail " says why.
 */
#ifndef JKVM_LIB_H
#define JKVM_LIB_H

#include <stdarg.h>
#include "x86.h"

#define EXIT_PORT 0xf4
#define EXIT_PASS 0x10
#define EXIT_FAIL 0x11

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Parses a decimal or 0x-prefixed hexadecimal number; the whole string must be digits. */
bool parse_u64(const char *s, uint64_t *out);

/* --- console: COM1, polled 16550 ------------------------------------------ */
#define COM1 0x3f8

void serial_init(void);
/* One byte to THR after LSR.THRE; no newline translation, no lock. */
void serial_putc_raw(char c);
/* Non-blocking receive: -1 when LSR.DR is clear. */
int serial_getc(void);

/* Locked console output: lines from different CPUs never interleave.
 * '\n' is sent as "\r\n". */
void kputs(const char *s);
PRINTF_LIKE(1, 2) void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);
/* For the fatal paths only: drop the lock whoever holds it. */
void console_break_lock(void);

/* printf formats: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width
 * (or '*'), length modifiers l, ll, z. */
PRINTF_LIKE(3, 4) int ksnprintf(char *buf, size_t size, const char *fmt, ...);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* --- ending the run ---------------------------------------------------------- */
NORETURN void debug_exit(uint8_t code);
NORETURN void exit_pass(void);
/* Prints "fail <message>" and exits with EXIT_FAIL. */
PRINTF_LIKE(1, 2) NORETURN void fail(const char *fmt, ...);
NORETURN void halt_forever(void);

#endif
