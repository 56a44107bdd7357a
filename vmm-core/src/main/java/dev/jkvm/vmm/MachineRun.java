package dev.jkvm.vmm;

import dev.jkvm.vmm.serial.SerialConsole;
import dev.jkvm.vmm.stats.VcpuReport;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A machine's one run, from start to end: which thread watches it (the caller's own in
 * {@link Machine#run} when nothing started the machine, else the thread {@link #start} starts),
 * how it ended, and who waits for that.
 */
final class MachineRun {

    private static final String SUPERVISOR_NAME = "jkvm machine";
    /** How long the end of a run waits for a serial sink that writes nothing: one that stopped reading loses the rest. */
    private static final long SERIAL_FLUSH_QUIET_MILLIS = 100;

    private final Machine machine;
    private final MachineBuilder.Parts parts;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final List<Runnable> endListeners = new CopyOnWriteArrayList<>();
    private volatile RunResult result;
    private Thread supervisor;
    private boolean closed;

    MachineRun(Machine machine, MachineBuilder.Parts parts) {
        this.machine = machine;
        this.parts = parts;
    }

    /** Starts the thread that watches the run (once). */
    synchronized void start() {
        if (closed) {
            throw new IllegalStateException("machine is closed");
        }
        if (supervisor == null) {
            supervisor = Thread.ofPlatform().name(SUPERVISOR_NAME).daemon(true).start(this::supervise);
        }
    }

    /**
     * {@code sink}, handed the guest's output so far first when the line comes from the watching thread: the guest output
     * before a line of ours comes before it (not on a vCPU's thread: it may not wait).
     */
    Consumer<String> afterSerialOutput(Consumer<String> sink) {
        return line -> {
            if (Thread.currentThread() == supervisor) {
                flushSerial();
            }
            sink.accept(line);
        };
    }

    /** How the run ended, or empty while it goes on. */
    Optional<RunResult> result() {
        return Optional.ofNullable(result);
    }

    /** Runs {@code action} once the run has ended (on the thread that saw it end; it must return at once). */
    void whenEnded(Runnable action) {
        AtomicBoolean ran = new AtomicBoolean();
        Runnable once = () -> {
            if (ran.compareAndSet(false, true)) {
                action.run();
            }
        };
        endListeners.add(once);
        if (result != null) {
            once.run();
        }
    }

    /** See {@link Machine#run(Duration)}. */
    RunResult run(Duration timeout) {
        boolean here;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("machine is closed");
            }
            here = supervisor == null;
            if (here) {
                supervisor = Thread.currentThread();
            }
        }
        RunResult limit = timeout == null ? null : RunResult.of(RunResult.Reason.TIMEOUT, RunResult.TIMEOUT_STATUS,
                "the guest ran for longer than " + timeout.toMillis() / 1000.0 + " s");
        if (here) {
            parts.power().limit(timeout, limit);
            supervise();
            return result;
        }
        try {
            if (timeout == null) {
                finished.await();
            } else if (!finished.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                machine.stop(limit);
                finished.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            machine.stop(RunResult.of(RunResult.Reason.CLOSED, 1, "interrupted"));
        }
        return result;
    }

    /** Watches power-on after power-on to the run's end, then gathers how it ended and tells the listeners. */
    private void supervise() {
        RunResult last = parts.power().run();
        if (parts.gdbStub() != null) {
            parts.gdbStub().guestExited(last.exitStatus());
        }
        RunResult requested = parts.power().stopRequest();
        RunResult end = requested != null && last.reason() == RunResult.Reason.CLOSED ? requested : last;
        List<VcpuReport> reports;
        try {
            // KVM's own counters only where someone asked for them: -stats, the monitor, a test
            reports = parts.power().session().reports(machine.config().stats() != MachineConfig.StatsFormat.NONE);
        } catch (RuntimeException e) {
            reports = List.of();
        }
        flushSerial();
        for (SerialConsole c : parts.consoles()) {
            c.droppedOutputNote().ifPresent(note -> machine.log("jkvm: " + note));
        }
        parts.trace().end(end.message());
        result = end.with(parts.consoles().getFirst().transcript(), reports);
        parts.power().endEvents(end);
        finished.countDown();
        endListeners.forEach(Runnable::run);
    }

    /** Hands the guest's output so far to every serial sink, waiting only while they take it. */
    private void flushSerial() {
        for (SerialConsole c : parts.consoles()) {
            c.flush(SERIAL_FLUSH_QUIET_MILLIS);
        }
    }

    /**
     * Closes the run (once): ends it, waits for whoever watches it (the thread from {@link #start}, or a caller inside
     * {@link #run}) to see it end, never for itself, then runs {@code release}.
     */
    void close(Runnable release) {
        Thread watcher;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            watcher = supervisor;
        }
        machine.stop(RunResult.of(RunResult.Reason.CLOSED, 1, "the machine was closed"));
        boolean interrupted = false;
        boolean other = watcher != null && watcher != Thread.currentThread();
        while (other && finished.getCount() > 0) {
            try {
                finished.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        while (other && watcher.getName().equals(SUPERVISOR_NAME) && watcher.isAlive()) {
            try {
                watcher.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        release.run(); // with the interrupt still to come: the last waits for vCPU threads must not be cut short
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
