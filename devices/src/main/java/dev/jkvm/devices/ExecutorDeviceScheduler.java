package dev.jkvm.devices;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The production {@link DeviceScheduler}: one daemon thread ({@code jkvm-device-timers}), started
 * with the first task, running device tasks at their due time, measured with {@link System#nanoTime()}.
 *
 * <p>One thread is enough: device tasks are short (update a register, set an interrupt line). A task
 * that throws is reported to the thread's uncaught-exception handler and does not stop the others.
 * Cancelled tasks are removed from the queue at once, so a device that reschedules often (the RTC's
 * periodic interrupt) does not fill it with dead entries.
 *
 * <pre>{@code
 * try (ExecutorDeviceScheduler timers = new ExecutorDeviceScheduler()) {
 *     CmosRtc rtc = new CmosRtc(info, InstantSource.system(), ZoneOffset.UTC, timers, irq8);
 *     ...
 * }
 * }</pre>
 */
public final class ExecutorDeviceScheduler implements DeviceScheduler, AutoCloseable {

    /** Made at the first task: a machine whose guest programs no timer builds no executor and starts no thread. */
    private volatile ScheduledThreadPoolExecutor executor;
    private boolean closed;

    /** A scheduler whose thread starts with its first task. */
    public ExecutorDeviceScheduler() {
    }

    private ScheduledThreadPoolExecutor executor() {
        ScheduledThreadPoolExecutor e = executor;
        if (e != null) {
            return e;
        }
        synchronized (this) {
            if (closed) {
                throw new RejectedExecutionException("the device timers are closed");
            }
            if (executor == null) {
                e = new ScheduledThreadPoolExecutor(1, runnable -> {
                    Thread t = new Thread(runnable, "jkvm-device-timers");
                    t.setDaemon(true);
                    return t;
                });
                e.setRemoveOnCancelPolicy(true);
                e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
                executor = e;
            }
            return executor;
        }
    }

    @Override
    public Cancellable schedule(long delayNanos, Runnable task) {
        ScheduledFuture<?> f = executor().schedule(() -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
            }
        }, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    /** Stops the thread (if it started); pending tasks never run, later ones are refused. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
