/*
 * printf.c - one formatter (kvformat) writing through a sink: the console
 * (kprintf, under the console lock) or a buffer (ksnprintf).
 */
#include "lib.h"
#include "spinlock.h"

struct sink {
    void (*put)(struct sink *s, char c);
    char *buf;
    size_t len, cap;
};

static void put_repeat(struct sink *s, char c, int n)
{
    while (n-- > 0)
        s->put(s, c);
}

/* Emits digits (already reversed in tmp) with the requested padding. */
static void emit_number(struct sink *s, uint64_t v, unsigned base, bool upper, bool negative,
                        int width, bool left, bool zero)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (negative ? 1 : 0);
    if (!left && !zero)
        put_repeat(s, ' ', width - len);
    if (negative)
        s->put(s, '-');
    if (!left && zero)
        put_repeat(s, '0', width - len);
    while (n)
        s->put(s, tmp[--n]);
    if (left)
        put_repeat(s, ' ', width - len);
}

static void kvformat(struct sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            s->put(s, *fmt);
            continue;
        }
        fmt++;
        bool left = false, zero = false;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                zero = true;
            else
                break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        int longs = 0;
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        if (*fmt == 'z') {
            longs = 2;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            emit_number(s, mag, 10, false, v < 0, width, left, zero);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            emit_number(s, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, left, zero);
            break;
        }
        case 'p':
            s->put(s, '0');
            s->put(s, 'x');
            emit_number(s, (uint64_t)va_arg(ap, void *), 16, false, false, width, left, zero);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = (int)strlen(str);
            if (!left)
                put_repeat(s, ' ', width - len);
            while (*str)
                s->put(s, *str++);
            if (left)
                put_repeat(s, ' ', width - len);
            break;
        }
        case 'c':
            if (!left)
                put_repeat(s, ' ', width - 1);
            s->put(s, (char)va_arg(ap, int));
            if (left)
                put_repeat(s, ' ', width - 1);
            break;
        case '%':
            s->put(s, '%');
            break;
        case '\0':
            return;
        default:    /* unknown conversion: show it as written */
            s->put(s, '%');
            s->put(s, *fmt);
            break;
        }
    }
}

/* --- console ------------------------------------------------------------------ */
static struct spinlock console_lock;

static void console_put(struct sink *s, char c)
{
    (void)s;
    if (c == '\n')
        serial_putc_raw('\r');
    serial_putc_raw(c);
}

void kvprintf(const char *fmt, va_list ap)
{
    struct sink s = { .put = console_put };
    spin_lock(&console_lock);
    kvformat(&s, fmt, ap);
    spin_unlock(&console_lock);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void kputs(const char *str)
{
    kprintf("%s", str);
}

void console_break_lock(void)
{
    spin_unlock(&console_lock);
}

/* --- buffers --------------------------------------------------------------- */
static void buffer_put(struct sink *s, char c)
{
    if (s->len + 1 < s->cap)
        s->buf[s->len] = c;
    s->len++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { .put = buffer_put, .buf = buf, .cap = size };
    kvformat(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return (int)s.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* %l conversions read 64-bit values with va_arg(ap, uint64_t). */
_Static_assert(sizeof(uint64_t) == sizeof(long), "LP64 expected");
