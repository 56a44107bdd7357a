/*
 * entry.S - Multiboot v1 entry of the 64-bit test kernels.
 *
 * The loader enters _start in 32-bit protected mode (flat segments, paging
 * off, interrupts off) with EAX = 0x2BADB002 and EBX = the Multiboot info
 * address. This code
 *   - checks EAX (wrong magic: "fail bad multiboot magic" on COM1, EXIT_FAIL),
 *   - zeroes .bss, takes the boot stack,
 *   - identity-maps 0 .. 64 GiB with 2 MiB pages (PML4 -> 1 PDPT -> 64 PDs;
 *     3..4 GiB, where the APICs and other MMIO live, uncached),
 *   - enables PAE, EFER.LME, paging -> long mode; loads a 64-bit GDT,
 *   - calls kinit(mbinfo), kmain(mbinfo), then ends the run with
 *     EXIT_PASS if kmain returned 0, else EXIT_FAIL.
 * It is linked into an ELF64 and shipped as ELF32 (objcopy): the 32-bit
 * entry is what a Multiboot loader jumps to, the rest are just bytes.
 */
#define MB_MAGIC    0x1BADB002
#define MB_FLAGS    0x00000003      /* bit 0: modules page-aligned, bit 1: memory info */
#define MB_EAX      0x2BADB002

#define CODE64_SEL  0x08
#define DATA_SEL    0x10

#define PD_COUNT    64              /* 64 x 1 GiB */
#define PTE_P       0x01
#define PTE_W       0x02
#define PTE_PWT     0x08
#define PTE_PCD     0x10
#define PTE_PS      0x80

#define COM1        0x3f8
#define EXIT_PORT   0xf4
#define EXIT_FAIL   0x11

        .section .multiboot, "a"
        .balign 4
multiboot_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)

        .section .text.boot32, "ax"
        .code32
        .globl  _start
_start:
        cli
        cld
        mov     $boot_stack_top, %esp
        cmp     $MB_EAX, %eax
        jne     bad_magic
        mov     %ebx, mbinfo_addr

        /* The loader zeroes .bss, but a VMM's loader may not: do it again. */
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        shr     $2, %ecx
        xor     %eax, %eax
        rep stosl

        /* PML4[0] -> PDPT */
        mov     $pdpt, %eax
        or      $(PTE_P | PTE_W), %eax
        mov     %eax, pml4

        /* PDPT[i] -> PD i, i = 0 .. PD_COUNT-1 */
        mov     $pdpt, %edi
        mov     $pd_tables, %eax
        or      $(PTE_P | PTE_W), %eax
        mov     $PD_COUNT, %ecx
1:      mov     %eax, (%edi)
        movl    $0, 4(%edi)
        add     $0x1000, %eax
        add     $8, %edi
        loop    1b

        /* PD entry k maps k * 2 MiB (k < 32768): low dword (k << 21) | flags,
         * high dword k >> 11. Entries 1536..2047 (3-4 GiB) are uncached. */
        mov     $pd_tables, %edi
        xor     %ecx, %ecx
2:      mov     %ecx, %eax
        shl     $21, %eax
        or      $(PTE_P | PTE_W | PTE_PS), %eax
        cmp     $1536, %ecx
        jb      3f
        cmp     $2048, %ecx
        jae     3f
        or      $(PTE_PCD | PTE_PWT), %eax
3:      mov     %eax, (%edi)
        mov     %ecx, %edx
        shr     $11, %edx
        mov     %edx, 4(%edi)
        add     $8, %edi
        inc     %ecx
        cmp     $(PD_COUNT * 512), %ecx
        jb      2b

        lgdt    gdt_desc
        mov     %cr4, %eax
        or      $0x20, %eax             /* CR4.PAE */
        mov     %eax, %cr4
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     $0xC0000080, %ecx       /* IA32_EFER */
        rdmsr
        or      $0x100, %eax            /* LME */
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax       /* PG | PE */
        and     $0x9fffffff, %eax       /* caches on: clear CD, NW */
        mov     %eax, %cr0
        ljmp    $CODE64_SEL, $long_mode

/* Wrong or no Multiboot magic: say so on COM1 and end the run. */
bad_magic:
        mov     $bad_magic_msg, %esi
4:      movb    (%esi), %bl
        test    %bl, %bl
        jz      6f
5:      mov     $(COM1 + 5), %dx
        inb     %dx, %al
        test    $0x20, %al
        jz      5b
        mov     $COM1, %dx
        mov     %bl, %al
        outb    %al, %dx
        inc     %esi
        jmp     4b
6:      mov     $EXIT_FAIL, %al
        outb    %al, $EXIT_PORT
7:      cli
        hlt
        jmp     7b

        .code64
        .text
long_mode:
        mov     $DATA_SEL, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $boot_stack_top, %rsp
        xor     %ebp, %ebp
        mov     mbinfo_addr(%rip), %edi
        call    kinit
        mov     mbinfo_addr(%rip), %edi
        call    kmain
        mov     %eax, %edi
        call    kmain_returned          /* does not return */
8:      cli
        hlt
        jmp     8b

        .section .rodata
bad_magic_msg:
        .asciz  "fail bad multiboot magic\r\n"

        .data
        .balign 16
        .globl  gdt64
gdt64:
        .quad   0                       /* null */
        .quad   0x00af9b000000ffff      /* 0x08: 64-bit code, DPL 0, accessed */
        .quad   0x00cf93000000ffff      /* 0x10: data, 4 GiB, accessed */
gdt64_end:
        .globl  gdt_desc
gdt_desc:
        .word   gdt64_end - gdt64 - 1
        .quad   gdt64                   /* lgdt in 32-bit mode reads 4 bytes of this */

        .globl  mbinfo_addr
        .balign 4
mbinfo_addr:
        .long   0

        .section .bss.pagetables, "aw", @nobits
        .balign 4096
        .globl  pml4, pdpt
pml4:   .skip   4096
pdpt:   .skip   4096
pd_tables:
        .skip   4096 * PD_COUNT

        .bss
        .balign 16
boot_stack:
        .skip   16384
boot_stack_top:
