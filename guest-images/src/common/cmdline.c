/*
 * cmdline.c - key=value words of the kernel command line.
 */
#include "kernel.h"

#define MAX_WORDS 64

static char words_buf[BOOT_CMDLINE_MAX];
static const char *keys[MAX_WORDS];
static const char *values[MAX_WORDS];
static unsigned nwords;

void cmdline_init(const char *text)
{
    size_t n = strlen(text);
    if (n >= sizeof(words_buf))
        n = sizeof(words_buf) - 1;
    memcpy(words_buf, text, n);
    words_buf[n] = '\0';
    nwords = 0;
    char *p = words_buf;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        char *word = p;
        char *eq = NULL;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '=' && !eq)
                eq = p;
            p++;
        }
        if (*p)
            *p++ = '\0';
        if (eq && nwords < MAX_WORDS) {
            *eq = '\0';
            keys[nwords] = word;
            values[nwords] = eq + 1;
            nwords++;
        }
    }
}

const char *cmdline_get(const char *key)
{
    /* The last occurrence wins, as with most command lines. */
    for (unsigned i = nwords; i-- > 0;)
        if (strcmp(keys[i], key) == 0)
            return values[i];
    return NULL;
}

uint64_t cmdline_u64(const char *key, uint64_t dflt)
{
    const char *v = cmdline_get(key);
    if (!v)
        return dflt;
    uint64_t n;
    if (!parse_u64(v, &n))
        fail("cmdline %s=%s is not a number", key, v);
    return n;
}

bool cmdline_flag(const char *key)
{
    const char *v = cmdline_get(key);
    return v && strcmp(v, "0") != 0;
}
