/* start.S - low8000's Multiboot header and 32-bit entry: the loader jumps
 * here in flat protected mode, paging off, EAX = magic, EBX = info. */
        .section .multiboot, "a"
        .align  4
        .long   0x1BADB002              /* magic */
        .long   0x00000003              /* page-aligned modules, memory info */
        .long   -(0x1BADB002 + 0x00000003)

        .text
        .globl  _start
_start:
        cli
        mov     $stack_top, %esp
        push    %ebx
        push    %eax
        call    main32
1:      cli
        hlt
        jmp     1b

        .bss
        .align  16
        .skip   768
stack_top:
