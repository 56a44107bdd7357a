/*
 * legacy-scan.rom - the legacy ROM area 0xC0000-0xFFFFF as a real-mode guest
 * reads it: in each 16 KiB block, one dword from every 16-byte paragraph (the
 * step of the DMI, MP and RSDP scans an OS makes), counted (zero, all ones) and
 * hashed (FNV-1a over the dwords, offset basis 0x811c9dc5, prime 0x01000193);
 * then a dword store of the inverted value into the block's first paragraph,
 * and whether the guest then reads something else (put back if so). One line
 * a block, then the end:
 *
 *   block c0000 zero=0400 ones=0000 fnv=xxxxxxxx write=kept
 *   ...
 *   block fc000 ...
 *   legacy-scan done
 *
 * and status 33 (0x10 to isa-debug-exit). The stack is RAM at 0:7000 (the
 * scan's counts stay in registers; only printing uses it).
 */
        .include "rom16.inc"

        .set STACK_TOP, 0x7000
        .set AREA_SEGMENT, 0xc000       /* 0xC0000 */
        .set BLOCK_PARAGRAPHS, 0x400    /* 16 KiB */
        .set FNV_BASIS, 0x811c9dc5
        .set FNV_PRIME, 0x01000193

        .globl  _start
_start:
        rom_init
        xor     %ax, %ax
        mov     %ax, %ss
        mov     $STACK_TOP, %sp
        com1_init
        mov     $AREA_SEGMENT, %bp      /* the block's first paragraph, as a segment */
.Lblock:
        mov     %bp, %dx
        mov     $BLOCK_PARAGRAPHS, %cx
        mov     $FNV_BASIS, %ebx
        xor     %edi, %edi              /* paragraphs whose dword is 0 */
        xor     %esi, %esi              /* ... and 0xffffffff */
.Lparagraph:
        mov     %dx, %es
        mov     %es:0, %eax
        test    %eax, %eax
        jnz     1f
        inc     %di
1:      cmp     $0xffffffff, %eax
        jne     2f
        inc     %si
2:      xor     %eax, %ebx
        imul    $FNV_PRIME, %ebx, %ebx
        inc     %dx
        loop    .Lparagraph

        mov     %bp, %es                /* the store: does the guest read it back? */
        mov     %es:0, %eax
        mov     %eax, %ecx
        not     %ecx
        mov     %ecx, %es:0
        mov     %es:0, %edx
        mov     $kept, %cx
        cmp     %eax, %edx
        je      3f
        mov     %eax, %es:0             /* it stuck: put the old value back */
        mov     $changed, %cx
3:
        mov     $s_block, %ax
        call    puts
        movzx   %bp, %eax
        shl     $4, %eax
        push    %cx
        mov     $5, %cx
        call    hex
        mov     $s_zero, %ax
        call    puts
        mov     %edi, %eax
        mov     $4, %cx
        call    hex
        mov     $s_ones, %ax
        call    puts
        mov     %esi, %eax
        call    hex
        mov     $s_fnv, %ax
        call    puts
        mov     %ebx, %eax
        mov     $8, %cx
        call    hex
        mov     $s_write, %ax
        call    puts
        pop     %ax
        call    puts
        mov     $s_newline, %ax
        call    puts

        add     $BLOCK_PARAGRAPHS, %bp
        jnz     .Lblock                 /* 0xfc00 + 0x400 wraps to 0: past 1 MiB */

        mov     $s_done, %ax
        call    puts
        mov     $0x10, %al
        out     %al, $0xf4
        halt_forever

/* AL to COM1 once THR is empty. */
putc:
        push    %dx
        push    %ax
        mov     $COM1_LSR, %dx
1:      in      %dx, %al
        test    $LSR_THRE, %al
        jz      1b
        pop     %ax
        mov     $COM1_THR, %dx
        out     %al, %dx
        pop     %dx
        ret

/* The NUL-terminated string at DS:AX. Keeps every register. */
puts:
        pushal
        mov     %ax, %si
1:      lodsb
        test    %al, %al
        jz      2f
        call    putc
        jmp     1b
2:      popal
        ret

/* The low CX (1-8) hex digits of EAX, most significant first. Keeps every register. */
hex:
        pushal
        mov     %eax, %edx
        mov     %cx, %bx
        mov     $8, %cx
        sub     %bx, %cx
        shl     $2, %cx
        rol     %cl, %edx               /* the first digit to print is now the top nibble */
        mov     %bx, %cx
1:      rol     $4, %edx
        mov     %dl, %al
        and     $0xf, %al
        add     $'0', %al
        cmp     $'9', %al
        jbe     2f
        add     $('a' - '9' - 1), %al
2:      call    putc
        loop    1b
        popal
        ret

s_block:   .asciz "block "
s_zero:    .asciz " zero="
s_ones:    .asciz " ones="
s_fnv:     .asciz " fnv="
s_write:   .asciz " write="
s_newline: .asciz "\r\n"
kept:      .asciz "kept"
changed:   .asciz "changed"
s_done:    .asciz "legacy-scan done\r\n"
