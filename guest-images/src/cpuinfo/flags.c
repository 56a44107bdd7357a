/*
 * flags.c - CPUID feature bits under their Linux /proc/cpuinfo names
 * (arch/x86/include/asm/cpufeatures.h). Bits Linux defines but does not show
 * (e.g. osxsave, spec_ctrl) and bits it does not define are not printed.
 */
#include "cpuinfo.h"

static const char *const leaf1_edx[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce",
    "cx8", "apic", NULL, "sep", "mtrr", "pge", "mca", "cmov",
    "pat", "pse36", "pn", "clflush", NULL, "dts", "acpi", "mmx",
    "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
};

static const char *const leaf1_ecx[32] = {
    "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est",
    "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm",
    NULL, "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt",
    "tsc_deadline_timer", "aes", "xsave", NULL, "avx", "f16c", "rdrand", "hypervisor",
};

static const char *const leaf7_ebx[32] = {
    "fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", NULL, "smep",
    "bmi2", "erms", "invpcid", "rtm", "cqm", NULL, "mpx", "rdt_a",
    "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", NULL, "clflushopt",
    "clwb", "intel_pt", "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl",
};

static const char *const leaf7_ecx[32] = {
    NULL, "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512_vbmi2", NULL,
    "gfni", "vaes", "vpclmulqdq", "avx512_vnni", "avx512_bitalg", "tme", "avx512_vpopcntdq", NULL,
    "la57", NULL, NULL, NULL, NULL, NULL, "rdpid", NULL,
    "bus_lock_detect", "cldemote", NULL, "movdiri", "movdir64b", "enqcmd", "sgx_lc", NULL,
};

static const char *const leaf7_edx[32] = {
    NULL, NULL, "avx512_4vnniw", "avx512_4fmaps", "fsrm", NULL, NULL, NULL,
    "avx512_vp2intersect", NULL, "md_clear", NULL, NULL, NULL, "serialize", NULL,
    "tsxldtrk", NULL, "pconfig", "arch_lbr", "ibt", NULL, "amx_bf16", "avx512_fp16",
    "amx_tile", "amx_int8", NULL, NULL, "flush_l1d", "arch_capabilities", NULL, NULL,
};

static const char *const ext1_edx[32] = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, "syscall", NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, "mp", "nx", NULL, "mmxext", NULL,
    NULL, "fxsr_opt", "pdpe1gb", "rdtscp", NULL, "lm", "3dnowext", "3dnow",
};

static const char *const ext1_ecx[32] = {
    "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse",
    "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", NULL, "lwp",
    "fma4", "tce", NULL, "nodeid_msr", NULL, "tbm", "topoext", "perfctr_core",
    "perfctr_nb", NULL, "bpext", "ptsc", "perfctr_llc", "mwaitx", NULL, NULL,
};

static size_t append_names(char *buf, size_t size, size_t len, uint32_t bits,
                           const char *const names[32])
{
    for (unsigned b = 0; b < 32; b++) {
        if (!(bits & (1u << b)) || !names[b])
            continue;
        len += ksnprintf(buf + (len < size ? len : size), len < size ? size - len : 0, "%s%s",
                         len ? " " : "", names[b]);
    }
    return len;
}

void cpu_flags(char *buf, size_t size)
{
    uint32_t max = cpuid(0, 0).eax;
    uint32_t ext_max = cpuid(0x80000000, 0).eax;
    struct cpuid_regs l1 = cpuid(1, 0);
    struct cpuid_regs l7 = max >= 7 ? cpuid(7, 0) : (struct cpuid_regs){ 0 };
    struct cpuid_regs e1 = ext_max >= 0x80000001 && ext_max < 0x8000ffff
                               ? cpuid(0x80000001, 0) : (struct cpuid_regs){ 0 };
    size_t len = 0;
    buf[0] = '\0';
    len = append_names(buf, size, len, l1.edx, leaf1_edx);
    len = append_names(buf, size, len, l1.ecx, leaf1_ecx);
    len = append_names(buf, size, len, l7.ebx, leaf7_ebx);
    len = append_names(buf, size, len, l7.ecx, leaf7_ecx);
    len = append_names(buf, size, len, l7.edx, leaf7_edx);
    len = append_names(buf, size, len, e1.edx, ext1_edx);
    append_names(buf, size, len, e1.ecx, ext1_ecx);
}
