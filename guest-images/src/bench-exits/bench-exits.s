/*
 * bench-exits.rom - the guest of jkvm's exit benchmarks (benchmarks/), run unchanged by jkvm and
 * by the C baseline VMM so that both time the very same instructions.
 *
 * The VMM chooses the case and the iteration count by writing two words into RAM before the vCPU
 * starts (a ROM has no command line); the guest writes its results back next to them:
 *
 *   0x8000  u32  case (written by the VMM; 0, i.e. untouched RAM: halt at once)
 *   0x8004  u32  N, iterations (written by the VMM)
 *   0x8008  u64  TSC when the loop started          (written by the guest)
 *   0x8010  u64  TSC cycles the N iterations took   (written by the guest)
 *   0x8018  u32  0x600dd00e once the results are written
 *
 * Cases (one loop of N iterations each, `dec %esi; jnz` around the instruction under test):
 *   0  none: `cli; hlt` straight from reset (the VM-lifecycle guest: run to HLT, nothing else)
 *   1  out  %al -> port 0x99 (no device: a port-I/O exit to the VMM, which ignores the write)
 *   2  in   port 0x99 -> %al  (a port-I/O exit; the VMM answers 0xff)
 *   3  movl %eax -> 0xe0000000 (no memory slot there: an MMIO exit; the VMM ignores the write)
 *   4  movl 0xe0000000 -> %eax (an MMIO exit; the VMM answers all ones)
 *   5  hlt  (without an in-kernel irqchip every HLT exits to the VMM, which resumes the vCPU)
 *   6  cpuid leaf 0 (handled inside KVM: never reaches the VMM)
 *   7  in   port 0x40 -> %al (the PIT's counter 0: inside KVM when the VMM made an in-kernel PIT)
 *   8  nothing: the bare loop, to show what the loop itself costs
 *
 * Afterwards the guest writes 0 to QEMU's isa-debug-exit port 0xf4 (jkvm: status 1, reason
 * DEBUG_EXIT; the C VMM stops there) and halts with interrupts off as a fallback.
 *
 * Why 32-bit protected mode: KVM may run real-mode code in its instruction emulator (it does on
 * the kvm_pvm hosts jkvm is developed on: every real-mode instruction is an emulation), which
 * would make every case measure the emulator. The guest therefore switches to flat 32-bit
 * protected mode before the loop; the only real-mode instructions are the few before that.
 */
        .include "rom16.inc"

        .set    PARAM_CASE,   0x8000
        .set    PARAM_N,      0x8004
        .set    RESULT_START, 0x8008
        .set    RESULT_TSC,   0x8010
        .set    RESULT_DONE,  0x8018
        .set    DONE_MAGIC,   0x600dd00e

        .set    UNCLAIMED_PORT, 0x99
        .set    PIT_COUNTER0,   0x40
        .set    MMIO_ADDRESS,   0xe0000000
        .set    DEBUG_EXIT_PORT, 0xf4

        .set    CODE32_SEL, 0x08
        .set    DATA32_SEL, 0x10

        .globl  _start
_start:
        cli
        xor     %ax, %ax
        mov     %ax, %ds
        cmpl    $0, PARAM_CASE          /* DS = 0: the case word in RAM */
        jne     1f
        hlt                             /* case 0: the lifecycle guest ends here */
        jmp     _start
1:      lgdtl   %cs:gdt_desc
        mov     %cr0, %eax
        or      $1, %eax                /* CR0.PE */
        mov     %eax, %cr0
        ljmpl   $CODE32_SEL, $(ROM_LOW_BASE + pm32)

        .code32
pm32:
        mov     $DATA32_SEL, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     PARAM_N, %esi
        mov     $MMIO_ADDRESS, %ebx
        mov     PARAM_CASE, %edi        /* the case, kept while rdtsc clobbers EAX/EDX */
        rdtsc
        mov     %eax, RESULT_START
        mov     %edx, RESULT_START + 4
        test    %esi, %esi
        jz      done                    /* N = 0: no iteration */
        cmp     $1, %edi
        je      loop_out
        cmp     $2, %edi
        je      loop_in
        cmp     $3, %edi
        je      loop_mmio_write
        cmp     $4, %edi
        je      loop_mmio_read
        cmp     $5, %edi
        je      loop_hlt
        cmp     $6, %edi
        je      loop_cpuid
        cmp     $7, %edi
        je      loop_pit
        jmp     loop_empty              /* 8, or anything else */

loop_out:
        out     %al, $UNCLAIMED_PORT
        dec     %esi
        jnz     loop_out
        jmp     done
loop_in:
        in      $UNCLAIMED_PORT, %al
        dec     %esi
        jnz     loop_in
        jmp     done
loop_mmio_write:
        mov     %eax, (%ebx)
        dec     %esi
        jnz     loop_mmio_write
        jmp     done
loop_mmio_read:
        mov     (%ebx), %eax
        dec     %esi
        jnz     loop_mmio_read
        jmp     done
loop_hlt:
        hlt
        dec     %esi
        jnz     loop_hlt
        jmp     done
loop_cpuid:
        xor     %eax, %eax
        cpuid                           /* clobbers EAX, EBX, ECX, EDX: the count is in ESI */
        dec     %esi
        jnz     loop_cpuid
        jmp     done
loop_pit:
        in      $PIT_COUNTER0, %al
        dec     %esi
        jnz     loop_pit
        jmp     done
loop_empty:
        dec     %esi
        jnz     loop_empty

done:
        rdtsc
        sub     RESULT_START, %eax
        sbb     RESULT_START + 4, %edx
        mov     %eax, RESULT_TSC
        mov     %edx, RESULT_TSC + 4
        movl    $DONE_MAGIC, RESULT_DONE
        xor     %al, %al
        out     %al, $DEBUG_EXIT_PORT   /* end of the run for every VMM */
        cli
2:      hlt
        jmp     2b
        .code16

        .balign 8
gdt:    .quad   0                       /* 0x00: null */
        .quad   0x00cf9b000000ffff      /* 0x08: flat 32-bit code, accessed (the CPU never writes the ROM) */
        .quad   0x00cf93000000ffff      /* 0x10: flat 32-bit data, accessed */
gdt_desc:
        .word   gdt_desc - gdt - 1
        .long   ROM_LOW_BASE + gdt
