/* exit.c - ending the run through QEMU's isa-debug-exit port (see lib.h). */
#include "lib.h"

void halt_forever(void)
{
    for (;;) {
        cli();
        hlt();
    }
}

void debug_exit(uint8_t code)
{
    outb(EXIT_PORT, code);
    halt_forever();     /* no debug-exit device: stop here */
}

void exit_pass(void)
{
    debug_exit(EXIT_PASS);
}

void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kprintf("fail ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    debug_exit(EXIT_FAIL);
}

/* Called by entry.S with kmain's return value. */
NORETURN void kmain_returned(int status);

void kmain_returned(int status)
{
    debug_exit(status == 0 ? EXIT_PASS : EXIT_FAIL);
}
