package dev.jkvm.vmm.vcpu;

import dev.jkvm.vmm.MachineEvent;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.trace.ExitTrace;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The machine's power cycles, watched from one thread: it starts a session, waits for its end
 * (meanwhile looking for a guest halted for good and for the run's deadline), and then either ends
 * the run or starts the next power-on through the {@link SessionFactory}: a cold boot after a
 * reset or a triple fault (unless {@code -no-reboot}, or the fault repeats at the same RIP), a
 * resume at the waking vector after S3 once a wake event came.
 *
 * <p>Lock order: the session lock before the wake lock; neither is taken on an exit path but the
 * guest's SLP_EN for S3, which holds the wake lock for two writes ({@link #suspending}).
 */
public final class PowerCycle {

    /** How often the watch looks for vCPUs halted for good, at most. */
    private static final Duration HALT_WATCH_PERIOD = Duration.ofMillis(100);
    /** The first look comes soon: a tiny guest is often done in milliseconds. */
    private static final Duration HALT_WATCH_FIRST = Duration.ofMillis(2);
    /** How long a vCPU may take to answer a request from another thread. */
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(2);
    /** How long the end of a run waits for a vCPU thread to leave after the run ended (they take microseconds). */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(2);

    /** What a power cycle does to the board's devices. */
    public interface Board {
        /** A reset: every device as at power-on. */
        void reset();

        /** The resume from S3: devices reset as the chipset does on resume, the wake status set. */
        void resumeFromS3();

        /** The firmware waking vector the guest left in the FACS (0 when unset). */
        long wakingVector();

        /** The chipset's reset control, as a write to it would ask for a reset. */
        void requestReset();

        /** The ACPI power button. */
        void pressPowerButton();
    }

    private final SessionFactory sessions;
    private final Board board;
    private final boolean noReboot;
    private final boolean irqchip;
    private final ExitTrace trace;
    private final Consumer<String> log;
    private final Consumer<MachineEvent> events;
    private final Object sessionLock = new Object();
    private volatile VmSession session;
    private volatile RunResult stopRequest;
    private volatile boolean suspended;
    private final Object wakeLock = new Object();
    private boolean wakeRequested;
    /** Set by {@link #hostReset()}: the next reset is the host's, not the guest's. */
    private volatile boolean hostReset;
    private int resets;
    /**
     * The run's time limit and what the run ends with when it passes: set by the caller of run(timeout), read by the
     * watching thread and by a suspended machine's wait.
     */
    private volatile long deadline = Long.MAX_VALUE;
    private volatile RunResult deadlineResult;
    /** The triple fault whose report the reset already logged: the run's end does not repeat it. */
    private volatile ExitReport loggedTripleFault;
    /** A vCPU thread did not end when the run did: its descriptors and the guest memory stay until the process exits. */
    private volatile boolean vcpusLeftBehind;
    /** Whether the vCPUs ever ran freely: false while {@code -S} holds them (QEMU's prelaunch). */
    private volatile boolean launched;

    /** @param first the first power-on, already made (the machine reads its vCPUs before anything runs) */
    public PowerCycle(VmSession first, SessionFactory sessions, Board board, boolean noReboot, boolean irqchip,
                      ExitTrace trace, Consumer<String> log, Consumer<MachineEvent> events) {
        this.session = first;
        this.sessions = sessions;
        this.board = board;
        this.noReboot = noReboot;
        this.irqchip = irqchip;
        this.trace = trace;
        this.log = log;
        this.events = events;
    }

    /** The current power-on. */
    public VmSession session() {
        return session;
    }

    /** How many times the machine reset so far. */
    public synchronized int resets() {
        return resets;
    }

    /** Whether the guest is suspended to RAM (ACPI S3), waiting for a wake event. */
    public boolean suspended() {
        return suspended;
    }

    /**
     * The guest wrote SLP_EN for S3: from here on it is suspended, so a wake event (its RTC alarm,
     * system_wakeup) that comes while its vCPUs are still being stopped wakes it instead of being
     * lost. Called on the vCPU thread of that write, before it ends the session.
     */
    public void suspending() {
        synchronized (wakeLock) {
            wakeRequested = false;
            suspended = true;
        }
    }

    /** A wake event for a suspended guest; ignored otherwise. */
    public void wakeup() {
        synchronized (wakeLock) {
            wakeRequested = true;
            wakeLock.notifyAll();
        }
    }

    /** The host resets the machine ({@code system_reset}) through the board's reset control; the reset's events say it was the host. */
    public void hostReset() {
        hostReset = true;
        board.requestReset();
    }

    /** The power button ({@code system_powerdown}): an ACPI guest shuts itself down; a suspended one wakes. */
    public void powerdown() {
        events.accept(new MachineEvent.Powerdown());
        if (suspended) {
            wakeup();
        } else {
            board.pressPowerButton();
        }
    }

    /** The run ends with {@code result} once {@code timeout} has passed (checked by the watching thread). */
    public void limit(Duration timeout, RunResult result) {
        deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        deadlineResult = result;
    }

    /** Ends the run now: the first request is the one the run ends with; a suspended machine ends too. */
    public void stop(RunResult why) {
        synchronized (sessionLock) {
            if (stopRequest == null) {
                stopRequest = why;
            }
            VmSession s = session;
            if (s != null) {
                s.control().end(why);
            }
        }
        synchronized (wakeLock) {
            wakeLock.notifyAll();
        }
    }

    /** Parks every vCPU outside the guest (the monitor's {@code stop}); true when all are parked. */
    public boolean pause(Duration timeout) {
        trace.marker("stop (vCPUs paused)");
        boolean was = paused();
        try {
            return session.control().pause(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (!was) {
                events.accept(new MachineEvent.Stop(false));
            }
        }
    }

    /** Lets the vCPUs run again (the monitor's {@code cont}). */
    public void resume() {
        trace.marker("cont");
        boolean was = paused();
        session.control().resume();
        launched = true;
        if (was) {
            events.accept(new MachineEvent.Resume());
        }
    }

    /** Whether the vCPUs are parked by {@link #pause}. */
    public boolean paused() {
        return session.control().pauseRequested();
    }

    /** Whether {@link #resume} let the vCPUs run at some point (after {@code -S}). */
    public boolean resumed() {
        return launched;
    }

    /** The stop request the run ends with, or null. */
    public RunResult stopRequest() {
        return stopRequest;
    }

    /**
     * Whether {@code report} is the same fault (vCPU, exit, RIP) as the one logged when the machine
     * reset after it.
     */
    public boolean reportLoggedAtReset(ExitReport report) {
        ExitReport l = loggedTripleFault;
        return l != null && l.vcpu() == report.vcpu() && l.exitReason() == report.exitReason() && l.rip() == report.rip();
    }

    /** Runs power-on after power-on until the run ends; returns how it ended. */
    public RunResult run() {
        Long lastTripleFaultRip = null;
        try {
            while (true) {
                VmSession s = session;
                s.start();
                RunResult r = watch(s);
                if (r.reason() == RunResult.Reason.SUSPEND && stopRequest == null) {
                    events.accept(new MachineEvent.Suspend());
                    if (!suspendAndResume(s)) {
                        return stopRequest != null ? stopRequest : r;
                    }
                    events.accept(new MachineEvent.Wakeup());
                    continue;
                }
                synchronized (wakeLock) {
                    suspended = false; // a suspend that a stop or a reset overtook
                }
                if (r.reason() == RunResult.Reason.SUSPEND) {
                    return stopRequest; // the stop came while the session was ending for S3
                }
                boolean reboot = !noReboot && stopRequest == null && switch (r.reason()) {
                    case RESET -> true;
                    case TRIPLE_FAULT -> {
                        // A PC resets on a triple fault; a guest that faults again at the same place
                        // right after would loop for ever, so that one ends the run.
                        long rip = r.report().map(ExitReport::rip).orElse(-1L);
                        boolean repeat = lastTripleFaultRip != null && lastTripleFaultRip == rip;
                        lastTripleFaultRip = rip;
                        yield !repeat;
                    }
                    default -> false;
                };
                if (!reboot) {
                    return r;
                }
                trace.marker("reset: " + r.message());
                if (r.reason() == RunResult.Reason.TRIPLE_FAULT) {
                    r.report().ifPresent(rep -> {
                        log.accept(rep.format().stripTrailing());
                        loggedTripleFault = rep;
                    });
                    log.accept("jkvm: resetting the machine after the triple fault (-no-reboot ends the run instead;"
                            + " the same fault again right after the reset ends it)");
                } else {
                    lastTripleFaultRip = null;
                }
                synchronized (sessionLock) {
                    if (stopRequest != null) {
                        return stopRequest;
                    }
                    s.close();
                    board.reset();
                    synchronized (this) {
                        resets++;
                    }
                    session = sessions.coldBoot();
                }
                boolean host = hostReset && r.reason() == RunResult.Reason.RESET;
                hostReset = false;
                events.accept(new MachineEvent.Reset(!host, host ? "host-qmp-system-reset" : "guest-reset"));
            }
        } catch (RuntimeException | Error e) {
            return RunResult.of(RunResult.Reason.ERROR, 1, "the machine failed: " + e);
        } catch (InterruptedException e) {
            return RunResult.of(RunResult.Reason.CLOSED, 1, "interrupted");
        }
    }

    /**
     * ACPI S3: every vCPU has left the guest; memory stays as it is. Waits for a wake event, then
     * starts the machine again the way firmware resumes a PC: devices reset, a fresh VM over the
     * same memory, the BSP at the waking vector. Returns false when the run was stopped instead.
     */
    private boolean suspendAndResume(VmSession s) throws InterruptedException {
        log.accept("jkvm: the guest suspended to RAM (S3); waiting for a wake event (RTC alarm, system_wakeup)");
        trace.marker("suspend to RAM (S3)");
        synchronized (sessionLock) {
            s.close();
        }
        boolean timedOut = false;
        synchronized (wakeLock) {
            suspended = true; // since suspending(), which also forgot earlier wake events
            try {
                while (!wakeRequested && stopRequest == null) {
                    if (pastDeadline()) { // the deadline holds while suspended too: an alarm may never come
                        timedOut = true;
                        break;
                    }
                    wakeLock.wait(100);
                }
            } finally {
                suspended = false;
            }
        }
        if (timedOut) {
            stop(deadlineResult); // outside wakeLock: stop takes the session lock first
        }
        if (stopRequest != null) {
            return false;
        }
        long vector;
        synchronized (sessionLock) {
            board.resumeFromS3();
            vector = board.wakingVector();
            session = sessions.resumeAt(vector);
        }
        log.accept(String.format("jkvm: resuming from S3 at the waking vector 0x%x", vector));
        return true;
    }

    /** Whether run(timeout)'s limit has passed. */
    private boolean pastDeadline() {
        return deadlineResult != null && System.nanoTime() - deadline >= 0;
    }

    /**
     * Waits for the session to end, meanwhile watching for a guest whose every vCPU halted with
     * interrupts disabled: nothing can wake such a guest, so its run ends as a halt (status 0), as
     * the bundled ROM guests expect.
     */
    private RunResult watch(VmSession s) throws InterruptedException {
        long period = HALT_WATCH_FIRST.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (pastDeadline()) {
                stop(deadlineResult);
            }
            RunResult r = s.awaitVcpusDone(Duration.ofNanos(Math.max(1, Math.min(period, left))));
            if (r != null) {
                List<Vcpu> stuck = s.joinVcpus(JOIN_TIMEOUT);
                if (!stuck.isEmpty()) {
                    // never wait for ever: the run ends; close() keeps what those threads may still touch
                    vcpusLeftBehind = true;
                    String what = stuck.stream().map(Vcpu::threadName).toList() + " did not stop within "
                            + JOIN_TIMEOUT.toMillis() + " ms";
                    log.accept("jkvm: " + what + "; the run ends without them");
                    if (r.reason() == RunResult.Reason.RESET || r.reason() == RunResult.Reason.TRIPLE_FAULT
                            || r.reason() == RunResult.Reason.SUSPEND) {
                        return RunResult.of(RunResult.Reason.ERROR, 1, what); // no new session beside a thread of the old one
                    }
                }
                return r;
            }
            period = Math.min(period * 2, HALT_WATCH_PERIOD.toNanos());
            // Without an irqchip a HLT exits to jkvm and ends the run itself: nothing to look for.
            if (irqchip && s.allHaltedForGood(ANSWER_TIMEOUT)) {
                s.control().end(RunResult.of(RunResult.Reason.HALTED, 0, "every vCPU halted with interrupts disabled"));
            }
        }
    }

    /** The events of a run's end, with QEMU's causes (a debug-exit ends QEMU at once, without one). */
    public void endEvents(RunResult end) {
        switch (end.reason()) {
            case POWER_OFF, HALTED -> events.accept(new MachineEvent.Shutdown(true, "guest-shutdown"));
            case RESET, TRIPLE_FAULT -> {
                if (end.reason() == RunResult.Reason.TRIPLE_FAULT && !noReboot) {
                    events.accept(new MachineEvent.GuestPanicked(end.message())); // the triple fault repeated after a reset
                    events.accept(new MachineEvent.Shutdown(true, "guest-panic"));
                } else {
                    boolean host = hostReset && end.reason() == RunResult.Reason.RESET;
                    events.accept(new MachineEvent.Shutdown(!host, host ? "host-qmp-system-reset" : "guest-reset"));
                }
            }
            case INTERNAL_ERROR, FAIL_ENTRY, UNHANDLED_EXIT -> {
                events.accept(new MachineEvent.GuestPanicked(end.message()));
                events.accept(new MachineEvent.Shutdown(true, "guest-panic"));
            }
            case QUIT -> events.accept(new MachineEvent.Shutdown(false, "host-qmp-quit"));
            case SIGNAL, TIMEOUT -> events.accept(new MachineEvent.Shutdown(false, "host-signal"));
            case DEBUG_EXIT, SUSPEND, CLOSED, ERROR -> {
            }
        }
    }

    /**
     * Stops the current session ({@link VmSession#stop}) and returns what closes its descriptors, unless a vCPU thread
     * the run left behind still runs after a last bounded wait: then null, its descriptors stay (and the caller keeps
     * the memory).
     */
    public Runnable close() {
        synchronized (sessionLock) {
            if (vcpusLeftBehind && !vcpusEndedAfterAll()) {
                return null;
            }
            return session.stop();
        }
    }

    private boolean vcpusEndedAfterAll() {
        try {
            return session.joinVcpus(JOIN_TIMEOUT).isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
