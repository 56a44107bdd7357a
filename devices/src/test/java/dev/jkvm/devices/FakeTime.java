package dev.jkvm.devices;

import java.time.Instant;
import java.time.InstantSource;
import java.util.PriorityQueue;
import java.util.function.LongSupplier;

/**
 * Hand-advanced time for device tests: one nanosecond counter serves as the wall clock
 * ({@link InstantSource}, epoch nanoseconds), the monotonic clock ({@link LongSupplier}) and the time
 * base of a {@link DeviceScheduler} whose tasks run, in due order, inside {@link #advanceNanos}.
 */
final class FakeTime implements InstantSource, LongSupplier, DeviceScheduler {

    private record Task(long due, long seq, Runnable action, boolean[] cancelled) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>(
            (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
    private long nanos;
    private long seq;
    private int ran;

    FakeTime(Instant start) {
        nanos = start.getEpochSecond() * 1_000_000_000L + start.getNano();
    }

    FakeTime(long startNanos) {
        nanos = startNanos;
    }

    @Override
    public synchronized Instant instant() {
        return Instant.ofEpochSecond(0, nanos);
    }

    @Override
    public synchronized long getAsLong() {
        return nanos;
    }

    @Override
    public synchronized Cancellable schedule(long delayNanos, Runnable task) {
        boolean[] cancelled = {false};
        tasks.add(new Task(nanos + Math.max(0, delayNanos), seq++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Moves time forward, running every task that falls due on the way at its due time. */
    void advanceNanos(long delta) {
        long target;
        synchronized (this) {
            target = nanos + delta;
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due > target) {
                    nanos = target;
                    return;
                }
                tasks.poll();
                if (next.cancelled[0]) {
                    continue;
                }
                nanos = Math.max(nanos, next.due);
                ran++;
            }
            next.action.run();
        }
    }

    void advanceMillis(long millis) {
        advanceNanos(millis * 1_000_000L);
    }

    /** Tasks scheduled and not cancelled, not yet run. */
    synchronized int pending() {
        int n = 0;
        for (Task t : tasks) {
            n += t.cancelled[0] ? 0 : 1;
        }
        return n;
    }

    /** Tasks run so far. */
    synchronized int ran() {
        return ran;
    }
}
