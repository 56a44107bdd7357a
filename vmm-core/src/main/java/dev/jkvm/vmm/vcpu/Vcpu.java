package dev.jkvm.vmm.vcpu;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.RunResult.Reason;
import dev.jkvm.vmm.host.ThreadTimes;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.stats.VcpuCounters;
import dev.jkvm.vmm.trace.TraceRing;
import java.time.Duration;
import java.util.BitSet;
import java.util.function.Function;

/**
 * One vCPU and its run loop, kvmtool's {@code kvm_cpu__start}: enter the guest with
 * {@code KVM_RUN}, dispatch the exit ({@link VcpuExit}) to the port-I/O or MMIO bus, or end the
 * run with a report. Runs on its own platform thread ({@link VcpuThread}), named as QEMU names it
 * ({@code CPU 0/KVM}) while it runs this vCPU (a thread whose vCPU ended waits, parked, for the next one: {@link VcpuThreadPool}).
 *
 * <p>The loop allocates nothing and takes no lock per exit; counters are plain arrays owned by
 * this thread. Other threads get it out of the guest with {@link #kick()} ({@link VcpuKick}) and
 * have their ioctls run on it with {@link #call} ({@link VcpuMailbox}).
 */
public final class Vcpu implements Runnable {

    /** Whether the current thread runs a vCPU: such a thread never waits for a log or output sink. */
    public static boolean onVcpuThread() {
        return VcpuThreadPool.onCarrier();
    }

    /** Where the thread is in its life. */
    public enum State { NEW, RUNNING, EXITED }

    private final int index;
    private final int apicId;
    private final VcpuFd fd;
    private final VcpuExit exit;
    private final PortBus ports;
    private final MmioBus mmio;
    private final GuestMemory memory;
    private final RunControl control;
    private final VcpuCounters counters;
    private final DebugHook debug;
    private final VcpuThread thread;
    private final VcpuKick kick;
    private final VcpuMailbox mailbox;
    /** The last KVM_RUN returned an exit whose instruction KVM completes at the next KVM_RUN. */
    private boolean exitInFlight;
    /** Parked by a pause with no exit in flight: the descriptor is idle until the machine resumes. */
    private volatile boolean parkedIdle;
    /** The session's posted writes to replay before each exit is handled, or null (set before the thread starts). */
    private PostedPio posted;
    /** Where -exit-trace records go; null (the usual case) costs one load per exit and nothing else. */
    private volatile TraceRing trace;

    /**
     * @param apicId the vCPU's APIC ID (also its KVM vCPU id)
     * @param affinity host CPUs to pin the thread to before it first enters the guest, or null
     * @param debug the debugger's hook into the run loop, or null
     */
    /**
     * Sets the kick signal's disposition for the process (once; later calls do nothing). Start-up
     * calls it on its warm-up thread: linking {@code sigaction} is a few ms of a tiny guest's run.
     */
    public static void prepareProcess() {
        VcpuKick.prepareProcess();
    }

    public Vcpu(int index, int apicId, VcpuFd fd, PortBus ports, MmioBus mmio, GuestMemory memory,
                RunControl control, VcpuCounters counters, BitSet affinity, DebugHook debug) {
        this.index = index;
        this.apicId = apicId;
        this.fd = fd;
        this.exit = fd.exit();
        this.ports = ports;
        this.mmio = mmio;
        this.memory = memory;
        this.control = control;
        this.counters = counters;
        this.debug = debug;
        this.thread = new VcpuThread(threadName(), affinity);
        this.kick = new VcpuKick(fd, thread);
        this.mailbox = new VcpuMailbox(index, fd, thread, kick, control);
        control.attach(this);
    }

    /** Replays {@code p}'s buffered writes at each exit and pause; before {@link #start()}. */
    void post(PostedPio p) {
        posted = p;
    }

    /** Starts the vCPU's platform thread (once). */
    public void start() {
        thread.start(this);
    }

    @Override
    public void run() {
        try {
            thread.pin();
            kick.blockOutsideKvmRun();
            if (thread.reused()) {
                kick.consume(); // a kick sent to the vCPU this thread ran before, as it ended: not this one's
            }
            thread.entered(); // the thread id is published only once the kick is blocked here
            loop();
        } catch (InterruptedException e) {
            control.end(RunResult.of(Reason.CLOSED, 1, "CPU " + index + " interrupted"));
        } catch (RuntimeException | Error e) {
            control.end(RunResult.of(Reason.ERROR, 1, "CPU " + index + ": " + e));
        } finally {
            if (debug != null) {
                debug.finished(index);
            }
            thread.exited(mailbox::serve); // a caller that raced with the end still gets its answer
        }
    }

    private void loop() throws InterruptedException {
        long t = System.nanoTime();
        while (true) {
            if (control.stopping()) {
                kick.seen(System.nanoTime());
                return;
            }
            if (control.pauseRequested()) {
                t = park(t);
                continue;
            }
            if (debug != null) {
                t = holdForDebugger(t);
                if (control.stopping()) {
                    continue;
                }
            }
            int reason = fd.run();
            exitInFlight = reason != VcpuFd.INTERRUPTED;
            long t1 = System.nanoTime();
            counters.inKvmRun(t1 - t);
            if (posted != null) {
                posted.drainIfAny(); // the guest's posted writes came before this exit: handled first
            }
            if (reason == VcpuFd.INTERRUPTED) {
                kicked(t1);
            } else {
                dispatch(reason, t1);
            }
            long t0 = t;
            t = System.nanoTime();
            counters.outside(t - t1);
            TraceRing ring = trace;
            if (ring != null) {
                VcpuTraceRecords.exit(ring, exit, reason, t0, t1, t);
            }
        }
    }

    private void dispatch(int reason, long t1) {
        switch (reason) {
            case KvmConstants.KVM_EXIT_IO -> {
                handleIo(t1);
                return;
            }
            case KvmConstants.KVM_EXIT_MMIO -> {
                handleMmio(t1);
                return;
            }
            case KvmConstants.KVM_EXIT_HLT -> control.end(RunResult.of(Reason.HALTED, 0, "CPU " + index + " halted"));
            case KvmConstants.KVM_EXIT_SHUTDOWN -> crash(Reason.TRIPLE_FAULT, reason);
            case KvmConstants.KVM_EXIT_INTERNAL_ERROR -> {
                if (debug == null || exit.internal().suberror() != KvmConstants.KVM_INTERNAL_ERROR_EMULATION
                        || !debug.emulationFailure(index, linearRip())) {
                    crash(Reason.INTERNAL_ERROR, reason);
                }
            }
            case KvmConstants.KVM_EXIT_DEBUG -> {
                if (debug == null) {
                    crash(Reason.UNHANDLED_EXIT, reason);
                } else {
                    debug.debugExit(index, exit.debug());
                }
            }
            case KvmConstants.KVM_EXIT_FAIL_ENTRY -> crash(Reason.FAIL_ENTRY, reason);
            case KvmConstants.KVM_EXIT_SYSTEM_EVENT -> handleSystemEvent();
            case KvmConstants.KVM_EXIT_INTR, KvmConstants.KVM_EXIT_IRQ_WINDOW_OPEN -> {
                // A signal that was not our kick, or a window only userspace irqchips ask for: go back in.
            }
            default -> crash(Reason.UNHANDLED_EXIT, reason);
        }
        counters.exit(reason, System.nanoTime() - t1);
    }

    private void handleIo(long t1) {
        VcpuExit.Io io = exit.io();
        boolean out = io.out();
        int size = io.size();
        int port = io.port();
        int count = io.count();
        // A string instruction (rep outsb/insb) hands over count items in one exit.
        for (int i = 0; i < count; i++) {
            if (out) {
                ports.write(port, size, io.data(i));
            } else {
                io.setData(i, ports.read(port, size));
            }
        }
        long nanos = System.nanoTime() - t1;
        counters.portExit(port, out, nanos);
        counters.exit(KvmConstants.KVM_EXIT_IO, nanos);
    }

    private void handleMmio(long t1) {
        VcpuExit.Mmio m = exit.mmio();
        long address = m.address();
        int len = m.length();
        boolean write = m.write();
        if (write) {
            mmio.write(address, len, m.data());
        } else {
            m.setData(mmio.read(address, len));
        }
        long nanos = System.nanoTime() - t1;
        counters.mmioExit(address, write, nanos);
        counters.exit(KvmConstants.KVM_EXIT_MMIO, nanos);
    }

    private void handleSystemEvent() {
        switch (exit.systemEvent().type()) {
            case KvmConstants.KVM_SYSTEM_EVENT_SHUTDOWN -> control.end(RunResult.of(Reason.POWER_OFF, 0, "the guest powered off"));
            case KvmConstants.KVM_SYSTEM_EVENT_RESET -> control.end(RunResult.of(Reason.RESET, 0, "the guest reset the machine"));
            default -> crash(Reason.UNHANDLED_EXIT, KvmConstants.KVM_EXIT_SYSTEM_EVENT);
        }
    }

    /** Ends the run with the registers and the code at RIP (off the hot path). */
    private void crash(Reason why, int reason) {
        control.end(RunResult.crash(why, ExitReport.gather(index, reason, fd, memory)));
    }

    /** CS base + RIP (off the hot path: two ioctls). */
    private long linearRip() {
        Sregs sregs = fd.sregs();
        long rip = fd.regs().rip();
        return (sregs.cs().l() ? 0 : sregs.cs().base()) + rip;
    }

    /** KVM_RUN returned early for a kick: serve what it asked for and, unless told to stay out, go back in. */
    private void kicked(long now) {
        kick.seen(now);
        counters.interrupted();
        kick.consume();
        if (!control.stopping() && !control.pauseRequested()) {
            fd.setImmediateExit(false); // a kick that asked for nothing more than a look outside
        }
        mailbox.serve();
    }

    /** Parks the vCPU while the machine is paused (serving calls meanwhile); returns the time it went on. */
    private long park(long t) throws InterruptedException {
        long parked = System.nanoTime();
        kick.seen(parked);
        parkedIdle = !exitInFlight;
        if (posted != null) {
            posted.drainIfAny(); // a paused machine (a snapshot, the monitor) shows everything it sent
        }
        try {
            control.park(this);
        } finally {
            parkedIdle = false;
        }
        if (!control.stopping()) {
            fd.setImmediateExit(false);
        }
        long now = System.nanoTime();
        counters.outside(now - t);
        TraceRing ring = trace;
        if (ring != null) {
            VcpuTraceRecords.pause(ring, parked, now);
        }
        return now;
    }

    /** Lets the debugger hold the vCPU before KVM_RUN; its time counts as outside KVM_RUN (counters and trace). */
    private long holdForDebugger(long t) throws InterruptedException {
        mailbox.callerMayRun(true);
        try {
            debug.checkpoint(index);
        } finally {
            mailbox.callerMayRun(false);
        }
        if (control.stopping()) {
            return t;
        }
        long now = System.nanoTime();
        counters.outside(now - t);
        return now;
    }

    // ---- for other threads

    /** Makes the vCPU leave the guest soon (any thread); see {@link VcpuKick}. */
    public void kick() {
        kick.kick();
    }

    /**
     * Runs {@code function} with the vCPU's descriptor on its thread (see {@link VcpuMailbox}),
     * waiting up to {@code timeout}: registers, MP state, debug registers for the monitor, the
     * debugger and tests. Throws {@code IllegalStateException} when the vCPU did not answer in time.
     */
    public <T> T call(Function<VcpuFd, T> function, Duration timeout) {
        return mailbox.call(function, timeout);
    }

    /** Runs a posted call, if any; on the vCPU thread only (while it is parked). */
    void serveRequests() {
        mailbox.serve();
    }

    /**
     * Whether the vCPU sits in a halt nothing but another processor can end: halted with
     * interrupts disabled, or never started by INIT/SIPI. Asked on its thread (via {@link #call}).
     */
    public boolean probeDeadHalt(Duration timeout) {
        return call(cpu -> {
            int mp = cpu.mpState();
            if (mp == KvmConstants.KVM_MP_STATE_UNINITIALIZED || mp == KvmConstants.KVM_MP_STATE_INIT_RECEIVED) {
                return true;
            }
            return mp == KvmConstants.KVM_MP_STATE_HALTED && (cpu.regs().rflags() & 1L << 9) == 0; // RFLAGS.IF
        }, timeout);
    }

    /**
     * Whether the vCPU sits parked by a pause with its last instruction complete: its descriptor is
     * idle until the machine resumes, so a snapshot may issue its ioctls without {@link #call}.
     */
    public boolean parkedIdle() {
        return parkedIdle && control.pauseRequested();
    }

    /** Waits up to {@code millis} (at least 1) for the thread to end; true when it has (or never started). */
    public boolean join(long millis) throws InterruptedException {
        return thread.join(millis);
    }

    /** Waits up to {@code nanos} for the thread to be done with this vCPU; true when it is (or never started). */
    public boolean joinNanos(long nanos) throws InterruptedException {
        return thread.joinNanos(nanos);
    }

    /** Waits for the thread to end. */
    public void join() throws InterruptedException {
        thread.join();
    }

    /** Records every exit, kick and pause into {@code ring} from the next one on; null stops that. */
    public void traceInto(TraceRing ring) {
        this.trace = ring;
    }

    // ---- what it is

    /** The vCPU index (0 is the bootstrap processor). */
    public int index() {
        return index;
    }

    /** The APIC ID. */
    public int apicId() {
        return apicId;
    }

    /** The thread name QEMU gives this vCPU. */
    public String threadName() {
        return "CPU " + index + "/KVM";
    }

    /** The vCPU's descriptor, for the machine's setup before the thread starts. */
    public VcpuFd fd() {
        return fd;
    }

    /** The host CPUs it was pinned to at start, or null. */
    public BitSet affinity() {
        return thread.affinity();
    }

    /** The user-mode exit counters. */
    public VcpuCounters counters() {
        return counters;
    }

    /** The thread's life stage. */
    public State state() {
        return thread.state();
    }

    /** The Linux thread id of the vCPU thread; 0 before it started and after it ended. */
    public int tid() {
        return thread.tid();
    }

    /** The Linux thread id the vCPU thread had (also after it ended); 0 before it started. */
    public int threadId() {
        return thread.lastTid();
    }

    /** The CPU times the host accounted to the thread: live while it runs, as it ended afterwards. */
    public ThreadTimes times() {
        return thread.times();
    }

    /** The host CPU the thread last ran on, or -1. */
    public int lastHostCpu() {
        return thread.lastHostCpu();
    }

    /** Nanoseconds from the last {@link #kick()} to the vCPU being out of {@code KVM_RUN}, or -1. */
    public long lastKickLatencyNanos() {
        return kick.lastLatencyNanos();
    }
}
