package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.vmm.vcpu.DebugHook;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The gdb stub of one machine: what the vCPU run loop calls, and the state shared by the
 * debugger sessions {@link GdbServer} runs one at a time.
 *
 * <p>The vCPU run loop calls {@link #checkpoint} at the top of every iteration (before
 * {@code KVM_RUN}; it blocks while the debugger holds the machine), {@link #debugExit} on
 * {@code KVM_EXIT_DEBUG} (then simply loops: the checkpoint holds the vCPU if the exit was the
 * debugger's), {@link #emulationFailure} on an emulation failure before reporting it as a crash,
 * and {@link #finished} when the thread leaves its loop. The machine calls
 * {@link #guestExited} when the run ends, whatever the reason.
 *
 * <pre>{@code
 * GdbStub stub = new GdbStub(target, waitForDebugger, System.err::println);
 * GdbServer server = GdbServer.start(GdbEndpoint.parse("tcp::1234"), stub, System.err::println);
 * // vCPU thread:
 * while (!control.stopping()) {
 *     stub.checkpoint(index);
 *     int reason = fd.run();
 *     if (reason == KVM_EXIT_DEBUG) stub.debugExit(index, fd.exit().debug());
 *     ...
 * }
 * stub.finished(index);
 * }</pre>
 */
public final class GdbStub implements DebugHook {

    /** DR6.B0-B3: which debug-register slots hit (an execution breakpoint can come with a step). */
    private static final long DR6_SLOT_HITS = 0xf;

    private final DebugTarget target;
    private final Consumer<String> log;
    private final AllStopGate gate;
    private final LinkedBlockingQueue<SessionInput> inputs = new LinkedBlockingQueue<>();
    /** The connection being served, for {@link #dropConnection}. */
    private volatile Connection serving;
    private final AtomicBoolean attached = new AtomicBoolean();
    private volatile ArmedState armed;
    private volatile boolean exited;

    /**
     * @param waitForDebugger hold every vCPU before its first instruction until a debugger
     *     resumes it (QEMU's {@code -S})
     * @param log where one-line notices go (connections, dropped packets)
     */
    public GdbStub(DebugTarget target, boolean waitForDebugger, Consumer<String> log) {
        this.target = target;
        this.log = log;
        this.gate = new AllStopGate(target.cpuCount(), target::kick, waitForDebugger);
        this.armed = ArmedState.none(target.cpuCount());
    }

    /**
     * vCPU thread, before every {@code KVM_RUN}: returns at once (one volatile read) unless the
     * debugger holds the machine, in which case it blocks until the debugger lets this vCPU run.
     */
    @Override
    public void checkpoint(int cpu) {
        gate.checkpoint(cpu);
    }

    /**
     * vCPU thread, on {@code KVM_EXIT_DEBUG}: decides whether the exit is the debugger's (a
     * breakpoint it planted, its single step, its debug-register hit). If so the machine is
     * stopped for the debugger: this vCPU stops at its next {@link #checkpoint}, the others are
     * kicked. If not, the exception is given back to the guest ({@code KVM_GUESTDBG_INJECT_BP}/
     * {@code _DB} through {@link DebugTarget#setGuestDebug}) and the guest goes on.
     *
     * @param exception {@code kvm_run.debug.arch.exception}: 1 (#DB) or 3 (#BP)
     * @param pc {@code kvm_run.debug.arch.pc}: the linear RIP
     * @param dr6 {@code kvm_run.debug.arch.dr6}
     * @return whether the debugger took the exit
     */
    public boolean debugExit(int cpu, int exception, long pc, long dr6) {
        ArmedState now = armed;
        if (now.watch() != null && exception == GuestDebug.ExceptionVector.DB
                && (dr6 & GuestDebug.ExceptionVector.DR6_BS) != 0) {
            StopReason hit = now.watch().check(cpu, target);
            if (hit != null) {
                stopFor(cpu, hit);
                return true;
            }
            if (!now.stepped(cpu) && (dr6 & DR6_SLOT_HITS) == 0) {
                return true; // the stub's own step and nothing else: the guest simply goes on
            }
        }
        StopReason why = now.classify(cpu, exception, pc, dr6);
        if (why == null) {
            GuestDebug mine = now.debugOf(cpu);
            if (mine.control() != 0) {
                target.setGuestDebug(cpu, mine.injecting(exception));
            }
            return false;
        }
        stopFor(cpu, why);
        return true;
    }

    /**
     * vCPU thread, on {@code KVM_EXIT_INTERNAL_ERROR} with suberror
     * {@code KVM_INTERNAL_ERROR_EMULATION}. Where KVM runs the guest in its instruction emulator
     * (PVM hosts: no VMX/SVM) an int3 outside real mode cannot be emulated and ends up here,
     * RIP on it, instead of as a #BP debug exit. When RIP is on one of the debugger's
     * breakpoints, this is that breakpoint: the machine stops for the debugger as for
     * {@link #debugExit} and the run loop simply goes on.
     *
     * @param linearRip CS base + RIP (RIP in 64-bit mode)
     * @return whether the debugger took the exit; if not, it is a real emulation failure
     */
    @Override
    public boolean emulationFailure(int cpu, long linearRip) {
        StopReason why = armed.classify(cpu, GuestDebug.ExceptionVector.BP, linearRip, 0);
        if (why == null) {
            return false;
        }
        stopFor(cpu, why);
        return true;
    }

    private void stopFor(int cpu, StopReason why) {
        gate.requestPause(cpu);
        inputs.add(new SessionInput.Stopped(new StopEvent(cpu, why)));
    }

    /** {@link #debugExit(int, int, long, long)} with the fields of the vCPU's debug exit. */
    @Override
    public boolean debugExit(int cpu, VcpuExit.Debug exit) {
        return debugExit(cpu, exit.exception(), exit.pc(), exit.dr6());
    }

    /** vCPU thread, when it leaves its run loop for good (in a finally). */
    @Override
    public void finished(int cpu) {
        gate.finished(cpu);
    }

    /**
     * The machine's run ended (power-off, crash, kill): the debugger is told {@code W<status>},
     * and no vCPU is held any more. Call before the vCPU descriptors and memory go away.
     */
    public void guestExited(int status) {
        exited = true;
        gate.shutdown();
        inputs.add(new SessionInput.Exited(status));
    }

    /** Whether a debugger is attached now. */
    public boolean attached() {
        return attached.get();
    }

    // ---- for GdbServer and GdbSession

    /** Claims the stub for one connection; false while another is attached. */
    boolean tryAttach() {
        return attached.compareAndSet(false, true);
    }

    /** Runs a session on the calling thread until the debugger leaves; then releases the stub. */
    void serve(Connection connection) {
        serving = connection;
        try {
            inputs.removeIf(i -> !(i instanceof SessionInput.Exited));
            for (String note : target.attachNotes()) {
                log.accept("gdb: " + note);
            }
            new GdbSession(this, connection).run();
        } finally {
            serving = null;
            attached.set(false);
        }
    }

    /**
     * Closes the debugger's connection under the session: a session blocked writing to a client
     * that never reads then fails its write and ends, instead of holding up the machine's stop.
     */
    void dropConnection() {
        Connection c = serving;
        if (c != null) {
            c.close();
        }
    }

    /** Ends the session in progress, if any, at its next input. */
    void endSession() {
        inputs.add(new SessionInput.Shutdown());
    }

    /** The machine is held for good: gdb's kill went through. */
    void killed() {
        gate.shutdown();
    }

    DebugTarget target() {
        return target;
    }

    AllStopGate gate() {
        return gate;
    }

    LinkedBlockingQueue<SessionInput> inputs() {
        return inputs;
    }

    void arm(ArmedState state) {
        armed = state;
    }

    boolean exited() {
        return exited;
    }

    void log(String line) {
        log.accept(line);
    }
}
