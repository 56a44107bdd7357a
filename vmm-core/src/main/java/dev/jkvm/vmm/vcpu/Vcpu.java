package dev.jkvm.vmm.vcpu;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.host.ThreadTimes;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.stats.VcpuCounters;
import dev.jkvm.vmm.trace.TraceRing;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One vCPU and its run loop: enter the guest with {@code KVM_RUN}, dispatch the exit to the
 * port-I/O or MMIO bus, or end the run with a report. Runs on its own platform thread, named as
 * QEMU names it ({@code CPU 0/KVM}).
 *
 * <p>The loop allocates nothing and takes no lock per exit; counters are plain arrays owned by
 * this thread. Another thread stops it with {@link #kick()}: {@code immediate_exit} plus a signal
 * that is blocked in this thread except inside {@code KVM_RUN} (QEMU's and kvmtool's technique),
 * so it interrupts the guest without ever running a handler.
 *
 * <p>Only this thread may issue ioctls on the vCPU while it runs (KVM serialises them on the
 * vCPU, so another thread's {@code KVM_GET_REGS} would wait for as long as the guest stays in).
 * Other threads therefore {@link #call} a function, which the vCPU thread runs the next time it is
 * outside the guest, kicking it out if need be.
 */
public final class Vcpu implements Runnable {

    /** The signal that kicks a vCPU out of the guest: a real-time one, which the JVM does not use. */
    static final int KICK_SIGNAL = LibcConstants.SIGRTMIN + 4;

    /** RFLAGS.IF. */
    private static final long RFLAGS_IF = 1L << 9;

    /** Once per process, before any vCPU thread runs: a stray kick is dropped, never fatal. */
    static {
        Libc.ignoreSignal(KICK_SIGNAL);
    }

    /** Where the thread is in its life. */
    public enum State { NEW, RUNNING, EXITED }

    /** A function to run on the vCPU thread, and where its result goes. */
    private record Request(Function<VcpuFd, ?> function, CompletableFuture<Object> done) {
    }

    private final int index;
    private final int apicId;
    private final VcpuFd fd;
    private final VcpuExit exit;
    private final PortBus ports;
    private final MmioBus mmio;
    private final GuestMemory memory;
    private final RunControl control;
    private final VcpuCounters counters;
    private final AtomicReference<Request> mailbox = new AtomicReference<>();
    private final BitSet affinity;
    private final DebugHook debug;
    private final Object stateLock = new Object();
    private State state = State.NEW;
    private Thread thread;
    private volatile int tid;
    private volatile int lastTid;
    private volatile long kickedAt;
    private volatile long lastKickLatencyNanos = -1;
    private volatile boolean deadHalt;
    /** Set while the debugger holds this vCPU before KVM_RUN: its descriptor is free for other threads then. */
    private volatile boolean heldByDebugger;
    private volatile ThreadTimes finalTimes;
    /** The last KVM_RUN returned an exit whose instruction KVM completes at the next KVM_RUN. */
    private boolean exitInFlight;
    /** Parked by a pause with no exit in flight: the descriptor is idle until the machine resumes. */
    private volatile boolean parkedIdle;
    /** Where -exit-trace records go; null (the usual case) costs one load per exit and nothing else. */
    private volatile TraceRing trace;

    /**
     * @param apicId the vCPU's APIC ID (also its KVM vCPU id)
     * @param affinity host CPUs to pin the thread to before it first enters the guest, or null
     */
    public Vcpu(int index, int apicId, VcpuFd fd, PortBus ports, MmioBus mmio, GuestMemory memory,
                RunControl control, VcpuCounters counters, BitSet affinity) {
        this(index, apicId, fd, ports, mmio, memory, control, counters, affinity, null);
    }

    /** @param debug the debugger's hook into the run loop, or null */
    public Vcpu(int index, int apicId, VcpuFd fd, PortBus ports, MmioBus mmio, GuestMemory memory,
                RunControl control, VcpuCounters counters, BitSet affinity, DebugHook debug) {
        this.debug = debug;
        this.counters = counters;
        this.index = index;
        this.apicId = apicId;
        this.fd = fd;
        this.exit = fd.exit();
        this.ports = ports;
        this.mmio = mmio;
        this.memory = memory;
        this.control = control;
        this.affinity = affinity == null ? null : (BitSet) affinity.clone();
        control.attach(this);
    }

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

    /** The Linux thread id the vCPU thread had (also after it ended); 0 before it started. */
    public int threadId() {
        return lastTid;
    }

    /** The Linux thread id of the vCPU thread; 0 before it started and after it ended. */
    public int tid() {
        return tid;
    }

    /** The thread's life stage. */
    public State state() {
        synchronized (stateLock) {
            return state;
        }
    }

    /** The host CPUs it was pinned to at start, or null. */
    public BitSet affinity() {
        return affinity == null ? null : (BitSet) affinity.clone();
    }

    /** The CPU times the host accounted to the thread: live while it runs, as it ended afterwards. */
    public ThreadTimes times() {
        int t = tid;
        ThreadTimes live = t != 0 ? ThreadTimes.of(t) : null;
        return live != null ? live : finalTimes;
    }

    /** The host CPU the thread last ran on, or -1. */
    public int lastHostCpu() {
        int t = tid;
        return t == 0 ? -1 : HostCpus.lastCpuOf(t);
    }

    /** The user-mode exit counters. */
    public VcpuCounters counters() {
        return counters;
    }

    /** Records every exit, kick and pause into {@code ring} from the next one on; null stops that. */
    public void traceInto(TraceRing ring) {
        this.trace = ring;
    }

    /** Nanoseconds from the last {@link #kick()} to the vCPU being out of {@code KVM_RUN}, or -1. */
    public long lastKickLatencyNanos() {
        return lastKickLatencyNanos;
    }

    /**
     * Whether the last look found the vCPU halted with interrupts disabled (or never started by
     * INIT/SIPI): nothing but another processor can wake it.
     */
    public boolean deadHalt() {
        return deadHalt;
    }

    /** Starts the vCPU's platform thread (once). */
    public void start() {
        synchronized (stateLock) {
            if (state != State.NEW) {
                return;
            }
            state = State.RUNNING;
            thread = Thread.ofPlatform().name(threadName()).daemon(true).unstarted(this);
            thread.start();
        }
    }

    /** Waits up to {@code millis} (at least 1) for the thread to end; true when it has (or never started). */
    public boolean join(long millis) throws InterruptedException {
        Thread t;
        synchronized (stateLock) {
            t = thread;
        }
        if (t == null) {
            return true;
        }
        t.join(Math.max(1, millis));
        return !t.isAlive();
    }

    /** Waits for the thread to end. */
    public void join() throws InterruptedException {
        Thread t;
        synchronized (stateLock) {
            t = thread;
        }
        if (t != null) {
            t.join();
        }
    }

    @Override
    public void run() {
        try {
            if (affinity != null) {
                Libc.schedSetaffinity(0, affinity);
            }
            fd.setSignalMask(Libc.blockSignalForKvmRun(KICK_SIGNAL));
            lastTid = Libc.gettid();
            tid = lastTid; // published only once the kick is blocked here
            loop();
        } catch (InterruptedException e) {
            control.end(RunResult.of(RunResult.Reason.CLOSED, 1, "CPU " + index + " interrupted"));
        } catch (RuntimeException | Error e) {
            control.end(RunResult.of(RunResult.Reason.ERROR, 1, "CPU " + index + ": " + e));
        } finally {
            if (debug != null) {
                debug.finished(index);
            }
            finalTimes = ThreadTimes.of(tid);
            tid = 0;
            synchronized (stateLock) {
                state = State.EXITED;
                serveRequests(); // a caller that raced with the end still gets its answer
            }
        }
    }

    private void loop() throws InterruptedException {
        long t = System.nanoTime();
        while (true) {
            if (control.stopping()) {
                kickSeen(System.nanoTime());
                return;
            }
            if (control.pauseRequested()) {
                long parked = System.nanoTime();
                kickSeen(parked);
                parkedIdle = !exitInFlight;
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
                    ring.put(TraceRing.head(TraceRing.PAUSE, 0, 0, 0, 0), parked, now, 0);
                }
                t = now;
                continue;
            }
            if (debug != null) {
                heldByDebugger = true;
                try {
                    debug.checkpoint(index);
                } finally {
                    heldByDebugger = false;
                }
                if (control.stopping()) {
                    continue;
                }
                // Time the debugger held the vCPU is outside KVM_RUN, not in it (counters and trace).
                long now = System.nanoTime();
                counters.outside(now - t);
                t = now;
            }
            int reason = fd.run();
            exitInFlight = reason != VcpuFd.INTERRUPTED;
            long t1 = System.nanoTime();
            counters.inKvmRun(t1 - t);
            if (reason == VcpuFd.INTERRUPTED) {
                kickSeen(t1);
                counters.interrupted();
                Libc.consumePendingSignal(KICK_SIGNAL);
                if (!control.stopping() && !control.pauseRequested()) {
                    fd.setImmediateExit(false); // a kick that asked for nothing more than a look outside
                }
                serveRequests();
            } else {
                dispatch(reason, t1);
            }
            long t0 = t;
            t = System.nanoTime();
            counters.outside(t - t1);
            TraceRing ring = trace;
            if (ring != null) {
                record(ring, reason, t0, t1, t);
            }
        }
    }

    /**
     * One trace record for the KVM_RUN that ran from {@code t0} to {@code t1} and the handling up to
     * {@code t2}; the exit's details are still in the exit view.
     */
    private void record(TraceRing ring, int reason, long t0, long t1, long t2) {
        long user = t2 - t1;
        switch (reason) {
            case VcpuFd.INTERRUPTED -> ring.put(TraceRing.head(TraceRing.KICK, 0, 0, 0, user), t0, t1, 0);
            case KvmConstants.KVM_EXIT_IO -> {
                VcpuExit.Io io = exit.io();
                ring.put(TraceRing.head(TraceRing.EXIT, reason, io.out() ? TraceRing.FLAG_OUT : 0, io.size(), user), t0, t1,
                        (long) io.count() << 16 | io.port());
            }
            case KvmConstants.KVM_EXIT_MMIO -> {
                VcpuExit.Mmio m = exit.mmio();
                ring.put(TraceRing.head(TraceRing.EXIT, reason, m.write() ? TraceRing.FLAG_OUT : 0, m.length(), user), t0, t1,
                        m.address());
            }
            default -> ring.put(TraceRing.head(TraceRing.EXIT, reason, 0, 0, user), t0, t1, 0);
        }
    }

    /** The vCPU is out of the guest after a {@link #kick()}: how long that took. */
    private void kickSeen(long now) {
        long k = kickedAt;
        if (k != 0) {
            lastKickLatencyNanos = now - k;
            kickedAt = 0;
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
            case KvmConstants.KVM_EXIT_HLT ->
                    control.end(RunResult.of(RunResult.Reason.HALTED, 0, "CPU " + index + " halted"));
            case KvmConstants.KVM_EXIT_SHUTDOWN -> control.end(RunResult.crash(RunResult.Reason.TRIPLE_FAULT, report(reason)));
            case KvmConstants.KVM_EXIT_INTERNAL_ERROR -> {
                if (debug == null || exit.internal().suberror() != KvmConstants.KVM_INTERNAL_ERROR_EMULATION
                        || !debug.emulationFailure(index, linearRip())) {
                    control.end(RunResult.crash(RunResult.Reason.INTERNAL_ERROR, report(reason)));
                }
            }
            case KvmConstants.KVM_EXIT_DEBUG -> {
                if (debug == null) {
                    control.end(RunResult.crash(RunResult.Reason.UNHANDLED_EXIT, report(reason)));
                } else {
                    debug.debugExit(index, exit.debug());
                }
            }
            case KvmConstants.KVM_EXIT_FAIL_ENTRY -> control.end(RunResult.crash(RunResult.Reason.FAIL_ENTRY, report(reason)));
            case KvmConstants.KVM_EXIT_SYSTEM_EVENT -> handleSystemEvent();
            case KvmConstants.KVM_EXIT_INTR -> {
                // A signal arrived during KVM_RUN that was not our kick: just go back in.
            }
            case KvmConstants.KVM_EXIT_IRQ_WINDOW_OPEN -> {
                // Only requested by userspace irqchips; harmless.
            }
            default -> control.end(RunResult.crash(RunResult.Reason.UNHANDLED_EXIT, report(reason)));
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
        int type = exit.systemEvent().type();
        switch (type) {
            case KvmConstants.KVM_SYSTEM_EVENT_SHUTDOWN ->
                    control.end(RunResult.of(RunResult.Reason.POWER_OFF, 0, "the guest powered off"));
            case KvmConstants.KVM_SYSTEM_EVENT_RESET ->
                    control.end(RunResult.of(RunResult.Reason.RESET, 0, "the guest reset the machine"));
            default -> control.end(RunResult.crash(RunResult.Reason.UNHANDLED_EXIT, report(KvmConstants.KVM_EXIT_SYSTEM_EVENT)));
        }
    }

    /** Gathers the registers and the code at RIP for a crash report (off the hot path). */
    private ExitReport report(int reason) {
        Regs regs = fd.regs();
        Sregs sregs = fd.sregs();
        long codeAddress = codeAddress(regs, sregs);
        byte[] code = new byte[0];
        if (codeAddress >= 0) {
            int n = 16;
            while (n > 0 && !memory.isBacked(codeAddress, n)) {
                n--;
            }
            code = n > 0 ? memory.read(codeAddress, n) : code;
        }
        return ExitReport.of(index, reason, exit, regs, sregs, codeAddress, code);
    }

    /** CS base + RIP (off the hot path: two ioctls). */
    private long linearRip() {
        Sregs sregs = fd.sregs();
        long rip = fd.regs().rip();
        return (sregs.cs().l() ? 0 : sregs.cs().base()) + rip;
    }

    /** The guest-physical address of CS:RIP, or -1 if the page tables do not map it. */
    private long codeAddress(Regs regs, Sregs sregs) {
        boolean protectedMode = (sregs.cr0() & 1) != 0;
        long linear = sregs.cs().base() + (protectedMode ? regs.rip() : regs.rip() & 0xffff);
        if ((sregs.cr0() & (1L << 31)) == 0) {
            return linear & 0xffff_ffffL;
        }
        try {
            return fd.translate(linear);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * Makes the vCPU leave the guest soon: sets {@code immediate_exit} (covers the window before
     * the next KVM_RUN) and signals the thread (interrupts a KVM_RUN in progress). Any thread.
     */
    public void kick() {
        if (kickedAt == 0) {
            kickedAt = System.nanoTime();
        }
        fd.setImmediateExit(true);
        int t = tid;
        if (t != 0 && Thread.currentThread() != thread) {
            try {
                Libc.tgkill(t, KICK_SIGNAL);
            } catch (RuntimeException e) {
                // The thread has already exited: nothing to interrupt.
            }
        }
    }

    /**
     * Runs {@code function} with this vCPU's descriptor on the vCPU thread (or on the caller's,
     * when the thread is not running), waiting up to {@code timeout}. For the monitor, the
     * debugger and assertions in tests: registers, MP state, debug registers.
     *
     * @throws IllegalStateException when the vCPU did not answer in time
     */
    @SuppressWarnings("unchecked")
    public <T> T call(Function<VcpuFd, T> function, Duration timeout) {
        synchronized (stateLock) {
            if (state != State.RUNNING || heldByDebugger || Thread.currentThread() == thread) {
                return function.apply(fd); // not in (and not about to enter) KVM_RUN, or asked by the vCPU itself
            }
        }
        Request request = new Request(function, new CompletableFuture<>());
        while (!mailbox.compareAndSet(null, request)) {
            Thread.onSpinWait(); // another caller's request is being served
        }
        synchronized (stateLock) {
            // The thread serves its mailbox one last time as it exits; if that was before we
            // posted, take the request back and run it here.
            if (state == State.EXITED && mailbox.compareAndSet(request, null)) {
                return function.apply(fd);
            }
        }
        control.wakeParked();
        kickForRequest();
        try {
            return (T) request.done().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            mailbox.compareAndSet(request, null);
            throw new IllegalStateException("CPU " + index + " did not answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** A kick that only asks the vCPU to look outside (it goes back in afterwards). */
    private void kickForRequest() {
        fd.setImmediateExit(true);
        int t = tid;
        if (t != 0) {
            try {
                Libc.tgkill(t, KICK_SIGNAL);
            } catch (RuntimeException e) {
                // exited meanwhile; run() serves the request on its way out
            }
        }
    }

    /** Runs a posted request, if any; on the vCPU thread only. */
    void serveRequests() {
        Request r = mailbox.getAndSet(null);
        if (r == null) {
            return;
        }
        try {
            r.done().complete(r.function().apply(fd));
        } catch (RuntimeException | Error e) {
            r.done().completeExceptionally(e);
        }
    }

    /**
     * Looks at the vCPU (on its thread, via {@link #call}): MP state and RFLAGS.IF, and records
     * whether it sits in a halt nothing but another processor can end.
     */
    public boolean probeDeadHalt(Duration timeout) {
        boolean dead = call(cpu -> {
            int mp = cpu.mpState();
            if (mp == KvmConstants.KVM_MP_STATE_UNINITIALIZED || mp == KvmConstants.KVM_MP_STATE_INIT_RECEIVED) {
                return true;
            }
            return mp == KvmConstants.KVM_MP_STATE_HALTED && (cpu.regs().rflags() & RFLAGS_IF) == 0;
        }, timeout);
        deadHalt = dead;
        return dead;
    }

    /**
     * Whether the vCPU sits parked by a pause with its last instruction complete: its descriptor
     * is idle until the machine resumes, so a snapshot or restore may issue the vCPU's ioctls from
     * its own thread instead of handing them to this one with {@link #call} (KVM serialises them
     * against a KVM_RUN that a concurrent resume would start).
     */
    public boolean parkedIdle() {
        return parkedIdle && control.pauseRequested();
    }

    /** The vCPU's descriptor, for the machine's setup before the thread starts. */
    public VcpuFd fd() {
        return fd;
    }
}
