/*
 * port-driver.rom - a tiny "driver" for a device the test itself defines at
 * ports 0x300-0x303 (no such device exists in jkvm): it reads the device's ID
 * register (0x300, 16 bits), writes ID + 1 to its command register (0x302,
 * 16 bits), reads the result register (0x301, 8 bits), prints
 * "driver: result XX\r\n" with the result in hex, and writes the result to the
 * debug-exit port (jkvm exits with (result << 1) | 1).
 * Run on its own (./jkvm -bios port-driver) nothing answers at 0x300 and the
 * ID reads 0xffff, as on a PC's empty bus: it says so, and exits with 0xff
 * (status 255) without talking to the device.
 */
        .include "rom16.inc"

        .set    DEV_ID, 0x300
        .set    DEV_RESULT, 0x301
        .set    DEV_COMMAND, 0x302

/* Print the hex digit in AL (0-15) on COM1 without a stack. Clobbers AX, DX. */
        .macro  call_free_hex_digit
        add     $'0', %al
        cmp     $'9', %al
        jbe     1f
        add     $('a' - '0' - 10), %al
1:      mov     %al, %ah
        mov     $COM1_LSR, %dx
2:      in      %dx, %al
        test    $LSR_THRE, %al
        jz      2b
        mov     %ah, %al
        mov     $COM1_THR, %dx
        out     %al, %dx
        .endm

        .globl  _start
_start:
        rom_init
        com1_init
        mov     $DEV_ID, %dx
        in      %dx, %ax
        cmp     $0xffff, %ax
        je      no_device
        inc     %ax
        mov     $DEV_COMMAND, %dx
        out     %ax, %dx
        mov     $DEV_RESULT, %dx
        in      %dx, %al
        mov     %al, %bl                /* keep the result */
        com1_puts msg
        mov     %bl, %al                /* high nibble, then low nibble, as hex */
        shr     $4, %al
        call_free_hex_digit
        mov     %bl, %al
        and     $0x0f, %al
        call_free_hex_digit
        com1_puts crlf
        mov     %bl, %al
        out     %al, $0xf4
        halt_forever

no_device:
        com1_puts nodev
        mov     $0xff, %al
        out     %al, $0xf4
        halt_forever

nodev:
        .ascii  "driver: no device at ports 0x300-0x303 (its ID register reads ffff): this ROM is the\r\n"
        .ascii  "driver half of a JUnit test that adds the device (jkvm-junit's @NotStarted Machine,\r\n"
        .asciz  "m.ports().register(0x300, ...)); exiting with 0xff\r\n"
msg:
        .asciz  "driver: result "
crlf:
        .asciz  "\r\n"
