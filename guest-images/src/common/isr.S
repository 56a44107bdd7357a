/*
 * isr.S - one 16-byte stub per vector (0..255) at isr_stubs + 16 * vector.
 * Each pushes a dummy error code (where the CPU pushes none) and the vector,
 * then isr_common saves the general registers and calls
 * isr_dispatch(struct int_frame *) (idt.c).
 */
        .code64
        .text

        .altmacro
        .macro  isr_stub vec
        .balign 16
        /* vectors with a CPU-pushed error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX */
        .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
        .else
        pushq   $0
        .endif
        pushq   $\vec
        {disp32} jmp isr_common         /* fixed 5 bytes: a stub is at most 12 */
        .endm

        .balign 16
        .globl  isr_stubs
isr_stubs:
        .set    vec, 0
        .rept   256
        isr_stub %vec
        .set    vec, vec + 1
        .endr
        .balign 16
        .globl  isr_stubs_end           /* kernel.ld checks the table's size */
isr_stubs_end:

isr_common:
        push    %rax
        push    %rcx
        push    %rdx
        push    %rbx
        push    %rbp
        push    %rsi
        push    %rdi
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, %rdi
        cld
        call    isr_dispatch
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rdi
        pop     %rsi
        pop     %rbp
        pop     %rbx
        pop     %rdx
        pop     %rcx
        pop     %rax
        add     $16, %rsp               /* vector, error code */
        iretq
