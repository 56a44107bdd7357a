/*
 * port-driver.rom - a tiny "driver" for a device the test itself defines at
 * ports 0x300-0x303 (no such device exists in jkvm): it reads the device's ID
 * register (0x300, 16 bits), writes ID + 1 to its command register (0x302,
 * 16 bits), reads the result register (0x301, 8 bits), prints
 * "driver: result XX\r\n" with the result in hex, and writes the result to the
 * debug-exit port (jkvm exits with (result << 1) | 1).
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

msg:
        .asciz  "driver: result "
crlf:
        .asciz  "\r\n"
