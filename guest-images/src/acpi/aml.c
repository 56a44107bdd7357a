/*
 * aml.c - finds a sleep state package in the DSDT without an AML
 * interpreter: a NameOp (0x08), optionally the root prefix '\', the name
 * "_Sx_", then a PackageOp (0x12) whose first element is an integer
 * constant - SLP_TYPa. That is how every firmware writes
 *     Name (\_S5, Package (4) {0, 0, 0, 0})
 * and it is all a kernel needs to enter the state.
 */
#include "acpi.h"

#define AML_NAME_OP    0x08
#define AML_ROOT_CHAR  0x5c
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01
#define AML_BYTE_PREFIX  0x0a
#define AML_WORD_PREFIX  0x0b
#define AML_DWORD_PREFIX 0x0c

/* An integer data object at p (within end): its value, or -1. */
static int64_t aml_integer(const uint8_t *p, const uint8_t *end)
{
    if (p >= end)
        return -1;
    switch (p[0]) {
    case AML_ZERO_OP: return 0;
    case AML_ONE_OP: return 1;
    case AML_BYTE_PREFIX: return p + 1 < end ? p[1] : -1;
    case AML_WORD_PREFIX: return p + 2 < end ? (p[1] | p[2] << 8) : -1;
    case AML_DWORD_PREFIX:
        return p + 4 < end ? (int64_t)((uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16
                                       | (uint32_t)p[4] << 24) : -1;
    default: return -1;
    }
}

/* The package at p: first element's value, or -1. */
static int64_t package_first(const uint8_t *p, const uint8_t *end)
{
    if (p >= end || p[0] != AML_PACKAGE_OP)
        return -1;
    p++;
    if (p >= end)
        return -1;
    unsigned follow = p[0] >> 6;    /* PkgLength: bytes after the lead byte */
    p += 1 + follow;
    if (p >= end)
        return -1;
    uint8_t elements = *p++;
    if (elements == 0)
        return -1;
    return aml_integer(p, end);
}

int aml_sleep_type(uint64_t dsdt, char state)
{
    const struct acpi_header *h = (const struct acpi_header *)dsdt;
    const uint8_t *aml = (const uint8_t *)(dsdt + sizeof(*h)), *end = (const uint8_t *)(dsdt + h->length);
    const char name[4] = { '_', 'S', state, '_' };
    for (const uint8_t *p = aml + 1; p + 4 <= end; p++) {
        if (memcmp(p, name, 4) != 0)
            continue;
        bool declared = p[-1] == AML_NAME_OP || (p[-1] == AML_ROOT_CHAR && p - 2 >= aml && p[-2] == AML_NAME_OP);
        if (!declared)
            continue;
        int64_t v = package_first(p + 4, end);
        if (v < 0) {
            problem("dsdt declares _S%c at offset %lu but not as a package of integers", state,
                    (uint64_t)(p - (const uint8_t *)dsdt));
            return -1;
        }
        if (v > 7) {
            problem("dsdt _S%c SLP_TYP=%ld does not fit 3 bits", state, v);
            return -1;
        }
        return (int)v;
    }
    return -1;
}
