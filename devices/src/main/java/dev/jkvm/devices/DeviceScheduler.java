package dev.jkvm.devices;

/**
 * Runs a device's timed work (an RTC alarm, a PM-timer carry) after a delay, on some thread other
 * than the caller's.
 *
 * <p>Why an interface: device models must be testable without real time. Production code uses
 * {@link ExecutorDeviceScheduler}; unit tests use a fake whose clock they advance by hand, so an
 * alarm "one hour from now" fires in a test at once and deterministically. Devices never busy-wait or
 * poll: they compute when the next event is due and schedule exactly one task for it.
 *
 * <p>Tasks run with no device lock held; a device takes its own lock inside the task. A task may
 * run slightly early or late relative to a device's clock (the scheduler's time base and the
 * device's clock need not be the same), so tasks re-read the clock and reschedule if they find
 * nothing due yet.
 *
 * <pre>{@code
 * DeviceScheduler.Cancellable t = scheduler.schedule(1_000_000_000L, rtc::onTimer);
 * t.cancel(); // no longer wanted
 * }</pre>
 */
@FunctionalInterface
public interface DeviceScheduler {

    /** A scheduled task that can still be called off. */
    @FunctionalInterface
    interface Cancellable {
        /** Prevents the task from running if it has not started; harmless if it already ran. */
        void cancel();
    }

    /**
     * Runs {@code task} once, {@code delayNanos} nanoseconds from now (at once if {@code <= 0}).
     *
     * @return a handle to call the task off
     */
    Cancellable schedule(long delayNanos, Runnable task);
}
