/*
 * hello.rom - the default jkvm guest.
 * Initialises COM1, prints "Hello from the guest\r\n", then cli; hlt.
 */
        .include "rom16.inc"

        .globl  _start
_start:                             /* F000:_start, reached from the reset vector */
        rom_init
        com1_init
        com1_puts hello_msg
        halt_forever

hello_msg:
        .asciz  "Hello from the guest\r\n"
