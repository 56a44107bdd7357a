/*
 * spinlock.h - a test-and-set spin lock for the few places where CPUs share
 * a resource (the serial console, counters of started CPUs).
 */
#ifndef JKVM_SPINLOCK_H
#define JKVM_SPINLOCK_H

#include "x86.h"

struct spinlock {
    volatile uint32_t locked;
};

static inline void spin_lock(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            pause();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
