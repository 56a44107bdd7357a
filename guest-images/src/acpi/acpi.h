/*
 * acpi.h - what the acpi kernel's parts share: the table layouts it reads
 * (ACPI 6.3, packed, little-endian), what it learned from them, and how a
 * check that went wrong is recorded (the run fails at the end, after the
 * whole listing, naming the first problem).
 */
#ifndef ACPI_KERNEL_H
#define ACPI_KERNEL_H

#include "kernel.h"

struct acpi_rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;           /* bytes 0..19 */
    char oem_id[6];
    uint8_t revision;           /* 0: ACPI 1.0 (20 bytes), 2: 36 bytes with the XSDT */
    uint32_t rsdt;
    uint32_t length;            /* revision >= 2 */
    uint64_t xsdt;
    uint8_t ext_checksum;       /* all `length` bytes */
    uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure. */
struct acpi_gas {
    uint8_t space_id;           /* 0 memory, 1 I/O */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
} __attribute__((packed));

#define GAS_SYSTEM_IO 1

/* The FADT ("FACP") up to revision 6 (276 bytes); older ones are shorter and
 * only the fields within `header.length` exist. */
struct acpi_fadt {
    struct acpi_header header;
    uint32_t firmware_ctrl;     /* 36 */
    uint32_t dsdt;              /* 40 */
    uint8_t reserved0;
    uint8_t pm_profile;
    uint16_t sci_int;           /* 46 */
    uint32_t smi_cmd;           /* 48 */
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk;      /* 56 */
    uint32_t pm1b_evt_blk;
    uint32_t pm1a_cnt_blk;      /* 64 */
    uint32_t pm1b_cnt_blk;
    uint32_t pm2_cnt_blk;
    uint32_t pm_tmr_blk;        /* 76 */
    uint32_t gpe0_blk;          /* 80 */
    uint32_t gpe1_blk;
    uint8_t pm1_evt_len;        /* 88 */
    uint8_t pm1_cnt_len;
    uint8_t pm2_cnt_len;
    uint8_t pm_tmr_len;
    uint8_t gpe0_blk_len;
    uint8_t gpe1_blk_len;
    uint8_t gpe1_base;
    uint8_t cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat;
    uint16_t flush_size, flush_stride;
    uint8_t duty_offset, duty_width;
    uint8_t day_alrm, mon_alrm;
    uint8_t century;            /* 108 */
    uint16_t iapc_boot_arch;    /* 109 */
    uint8_t reserved1;
    uint32_t flags;             /* 112 */
    struct acpi_gas reset_reg;  /* 116, revision >= 2 */
    uint8_t reset_value;        /* 128 */
    uint16_t arm_boot_arch;
    uint8_t minor_revision;     /* 131 */
    uint64_t x_firmware_ctrl;   /* 132, revision >= 3 */
    uint64_t x_dsdt;            /* 140 */
    struct acpi_gas x_pm1a_evt_blk;     /* 148 */
    struct acpi_gas x_pm1b_evt_blk;
    struct acpi_gas x_pm1a_cnt_blk;     /* 172 */
    struct acpi_gas x_pm1b_cnt_blk;
    struct acpi_gas x_pm2_cnt_blk;
    struct acpi_gas x_pm_tmr_blk;       /* 208 */
    struct acpi_gas x_gpe0_blk;         /* 220 */
    struct acpi_gas x_gpe1_blk;         /* 232 */
    struct acpi_gas sleep_control_reg;  /* 244, revision >= 5 */
    struct acpi_gas sleep_status_reg;
    uint64_t hypervisor_vendor;         /* 268, revision >= 6 */
} __attribute__((packed));

#define FADT_F_FIX_RTC       (1u << 6)   /* no RTC_STS/RTC_EN in PM1 */
#define FADT_F_TMR_VAL_EXT   (1u << 8)
#define FADT_F_RESET_REG_SUP (1u << 10)

/* The Firmware ACPI Control Structure (no checksum). */
struct acpi_facs {
    char signature[4];          /* "FACS" */
    uint32_t length;            /* 64 */
    uint32_t hardware_signature;
    uint32_t firmware_waking_vector;    /* 12: real-mode entry on resume */
    uint32_t global_lock;
    uint32_t flags;
    uint64_t x_firmware_waking_vector;  /* 24: 0 = use the 32-bit one */
    uint8_t version;
    uint8_t reserved[3];
    uint32_t ospm_flags;
    uint8_t reserved2[24];
} __attribute__((packed));

/* What the rest of the kernel needs from the FADT: the resolved (X_ where it
 * exists) I/O ports. 0 = absent. */
struct acpi_pm {
    uint16_t pm1a_evt, pm1a_cnt, pm_tmr, gpe0;
    uint8_t pm1_evt_len;
    bool timer32;
    uint16_t sci;
    uint32_t smi_cmd;
    uint32_t fadt_flags;
};

#define PM1_STS_TMR    0x0001
#define PM1_STS_RTC    0x0400
#define PM1_STS_WAK    0x8000
#define PM1_EN_RTC     0x0400
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK  (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN 0x2000

/* --- problems: recorded, listed on, the run fails at the end -------------- */
PRINTF_LIKE(1, 2) void problem(const char *fmt, ...);

/* --- tables.c ---------------------------------------------------------------- */
uint8_t acpi_sum(uint64_t addr, size_t len);
/* Copies `n` characters of a table field for printing, NUL-terminated. */
void acpi_field(char *dst, const char *src, size_t n);
/* Finds the RSDP (EBDA, then 0xE0000-0xFFFFF), checks it and the root
 * tables, prints them; 0 when there is none. */
uint64_t acpi_find_rsdp(void);
/* Walks the XSDT (the RSDT without one), checking every table; compares the
 * RSDT. Returns the number of tables and puts their addresses in `tables`. */
int acpi_walk_roots(uint64_t rsdp, uint64_t *tables, int max);
/* Prints the `table` line of the SDT at `addr` and checks its checksum. */
bool acpi_check_table(uint64_t addr, const char *expect_sig);
uint64_t acpi_find_table(const uint64_t *tables, int n, const char *sig);

/* --- madt.c ------------------------------------------------------------------ */
void madt_list(uint64_t addr);

/* --- fadt.c ------------------------------------------------------------------ */
/* Lists the FADT, checks and lists the DSDT and the FACS behind it. */
void fadt_list(uint64_t addr, struct acpi_pm *pm, uint64_t *dsdt, uint64_t *facs);

/* --- aml.c ------------------------------------------------------------------- */
/* SLP_TYP of \_Sx (x = '3', '5') from the DSDT's AML, or -1 if not declared. */
int aml_sleep_type(uint64_t dsdt, char state);

/* --- pmtimer.c --------------------------------------------------------------- */
void pmtimer_measure(const struct acpi_pm *pm);

/* --- sleep.c ----------------------------------------------------------------- */
/* Does not return when the machine powers off. */
void sleep_s5(const struct acpi_pm *pm, int slp_typ);
/* power=button: wait for the power button's SCI, then S5 (button.c). */
void power_button(const struct acpi_pm *pm, int s5);
/* Does not return: the waking routine ends the run. */
/* When the RTC alarm that wakes from S3 fires: 2 s ahead, at the SLP_EN write, before it. */
enum s3_alarm { S3_ALARM_AHEAD, S3_ALARM_EDGE, S3_ALARM_PAST, S3_ALARM_FAR };
void sleep_s3(const struct acpi_pm *pm, uint64_t facs, int slp_typ, bool resume_long, enum s3_alarm alarm);

#endif
