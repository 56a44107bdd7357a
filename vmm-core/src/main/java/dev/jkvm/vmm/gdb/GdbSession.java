package dev.jkvm.vmm.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Iterator;
import java.util.concurrent.Semaphore;

/**
 * One debugger connection, run on the session thread: acks and retransmission, the stopped /
 * running states of all-stop debugging, stop replies, and leaving the guest as it was found when
 * the debugger goes. A reader thread turns the socket into {@link Frame}s on the stub's queue;
 * this thread is the only one that writes to the socket or touches the debugging state.
 *
 * <p>On connect the machine is stopped (as QEMU does); on detach or disconnect every breakpoint
 * is removed, guest debugging is turned off and the machine resumes.
 */
final class GdbSession {

    private static final int READ_BUFFER = 4096;
    /**
     * Frames read from the client and not yet handled, at most: a client that sends {@code $g#67}
     * without ever reading the replies blocks this session in {@code write()}, and the reader then
     * stops reading the socket (TCP pushes back) instead of queueing without end. 64 frames of at
     * most {@code 2 * PACKET_SIZE} bytes: 2 MiB.
     */
    static final int MAX_QUEUED_FRAMES = 64;

    /** Thrown on the reader thread when the session ended while it waited for room. */
    private static final class SessionEnded extends RuntimeException {
        SessionEnded() {
            super(null, null, false, false);
        }
    }

    private final GdbStub stub;
    private final Connection connection;
    private final DebugTarget target;
    private final AllStopGate gate;
    private final CommandHandler commands;
    private final int cpus;
    /** Stops that happened while another was being reported: told on a later resume. */
    private final ArrayDeque<StopEvent> pending = new ArrayDeque<>();
    /** What each vCPU's KVM_SET_GUEST_DEBUG last got. */
    private final GuestDebug[] applied;
    private final OutputStream out;
    private boolean noAck;
    private boolean running;
    private boolean done;
    private boolean targetGone;
    private byte[] lastSent;
    private boolean toldGarbage;
    private boolean toldBadChecksum;
    private boolean toldBusy;
    private final Semaphore queueRoom = new Semaphore(MAX_QUEUED_FRAMES);

    GdbSession(GdbStub stub, Connection connection) {
        this.stub = stub;
        this.connection = connection;
        this.target = stub.target();
        this.gate = stub.gate();
        this.commands = new CommandHandler(target);
        this.cpus = target.cpuCount();
        this.applied = new GuestDebug[cpus];
        Arrays.fill(applied, GuestDebug.OFF);
        this.out = connection.output();
    }

    /** Runs until the debugger leaves, the guest ends or the server closes (or interrupts this thread). */
    void run() {
        stub.log("gdb: debugger connected from " + connection.peer());
        Thread reader = Thread.ofPlatform().daemon().name("gdb-reader").start(this::read);
        boolean abandoned = false;
        try {
            if (stub.exited()) {
                targetGone = true;
                return;
            }
            gate.pauseAll();
            while (!done) {
                handle(stub.inputs().take());
            }
        } catch (InterruptedException e) {
            // The server gave up waiting (a vCPU never came back to its checkpoint): waiting again would hang too.
            abandoned = true;
        } finally {
            try {
                if (abandoned) {
                    releaseGuest();
                } else {
                    leaveGuest();
                }
            } finally {
                connection.close();
                reader.interrupt(); // it may wait for queue room that nobody will make now
                awaitReader(reader);
            }
        }
        if (abandoned) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitReader(Thread reader) {
        try {
            reader.join(); // ends promptly: its socket is closed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void read() {
        FrameDecoder decoder = new FrameDecoder(2 * CommandHandler.PACKET_SIZE, this::enqueue);
        InputStream in = connection.input();
        byte[] buffer = new byte[READ_BUFFER];
        String why = "closed the connection";
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                decoder.feed(buffer, n);
            }
        } catch (IOException e) {
            why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        } catch (SessionEnded e) {
            return;
        }
        stub.inputs().add(new SessionInput.ClientGone(this, why));
    }

    /** Reader thread: one frame onto the stub's queue, once there is room for it (backpressure). */
    private void enqueue(Frame frame) {
        try {
            queueRoom.acquire();
        } catch (InterruptedException e) {
            throw new SessionEnded();
        }
        stub.inputs().add(new SessionInput.FromClient(this, frame));
    }

    /** Frames of this session now queued (for tests: never above {@link #MAX_QUEUED_FRAMES}). */
    int queuedFrames() {
        return MAX_QUEUED_FRAMES - queueRoom.availablePermits();
    }

    private void handle(SessionInput input) throws InterruptedException {
        switch (input) {
            case SessionInput.FromClient f when f.from() == this -> {
                try {
                    onFrame(f.frame());
                } finally {
                    queueRoom.release();
                }
            }
            case SessionInput.ClientGone g when g.from() == this -> {
                stub.log("gdb: debugger disconnected (" + g.why() + ")");
                done = true;
            }
            case SessionInput.Stopped s -> onStop(s.event());
            case SessionInput.Exited e -> {
                targetGone = true;
                send("W" + Hex.number(e.status() & 0xff, 2));
                done = true;
            }
            case SessionInput.Shutdown s -> done = true;
            default -> {
                // Frames of a connection that is already gone.
            }
        }
    }

    private void onFrame(Frame frame) throws InterruptedException {
        switch (frame) {
            case Frame.Packet p -> {
                ack('+');
                if (running) {
                    if (!toldBusy) {
                        stub.log("gdb: ignored a packet sent while the guest runs");
                        toldBusy = true;
                    }
                    return;
                }
                onOutcome(handlePacket(p.payload()));
            }
            case Frame.BadChecksum b -> {
                ack('-');
                if (!toldBadChecksum) {
                    stub.log("gdb: dropped a packet with a bad checksum");
                    toldBadChecksum = true;
                }
            }
            case Frame.Oversize o -> {
                stub.log("gdb: dropped a packet of " + o.length() + " bytes (the limit is " + 2 * CommandHandler.PACKET_SIZE + ")");
                ack('+');
                if (!running) {
                    send("");
                }
            }
            case Frame.Nak n -> {
                if (!noAck && lastSent != null) {
                    write(lastSent);
                }
            }
            case Frame.Interrupt i -> {
                if (running) {
                    stopAll(new StopEvent(commands.generalCpu, new StopReason.Interrupted()));
                }
            }
            case Frame.Garbage g -> {
                if (!toldGarbage) {
                    stub.log("gdb: ignored " + g.count() + " bytes outside packets");
                    toldGarbage = true;
                }
            }
            case Frame.Ack a -> {
            }
        }
    }

    private Outcome handlePacket(String payload) {
        try {
            return commands.handle(payload);
        } catch (RuntimeException e) {
            stub.log("gdb: packet '" + abbreviate(payload) + "' failed: " + e.getMessage());
            return Outcome.Reply.of("E01");
        }
    }

    private void onOutcome(Outcome outcome) throws InterruptedException {
        switch (outcome) {
            case Outcome.Reply r -> r.packets().forEach(this::send);
            case Outcome.StartNoAck s -> {
                send("OK");
                noAck = true;
            }
            case Outcome.Resume r -> resume(r.running(), r.stepping());
            case Outcome.Detach d -> {
                send("OK");
                stub.log("gdb: debugger detached");
                done = true;
            }
            case Outcome.Kill k -> {
                stub.log("gdb: the debugger killed the guest");
                targetGone = true;
                done = true;
                stub.killed();
                target.kill();
            }
        }
    }

    // ---- all-stop

    private void resume(BitSet runningCpus, BitSet stepping) {
        for (Iterator<StopEvent> it = pending.iterator(); it.hasNext(); ) {
            StopEvent event = it.next();
            if (runningCpus.get(event.cpu())) {
                it.remove();
                if (stillMeaningful(event)) {
                    report(event);
                    return;
                }
            }
        }
        HardwareBreakpoints.Slot[] slots = new HardwareBreakpoints.Slot[HardwareBreakpoints.SLOTS];
        for (int n = 0; n < slots.length; n++) {
            slots[n] = commands.hardware.slot(n);
        }
        WatchEmulation watch = target.watchpointsBySingleStep() ? WatchEmulation.snapshot(slots, target) : null;
        GuestDebug[] debug = new GuestDebug[cpus];
        boolean[] requested = new boolean[cpus];
        for (int cpu = 0; cpu < cpus; cpu++) {
            requested[cpu] = stepping.get(cpu);
            debug[cpu] = commands.guestDebug(stepping.get(cpu) || watch != null);
            if (!debug[cpu].equals(applied[cpu])) {
                target.setGuestDebug(cpu, debug[cpu]);
                applied[cpu] = debug[cpu];
            }
        }
        long[] breakpoints = commands.software.addresses();
        stub.arm(new ArmedState(breakpoints, slots, debug, watch, requested));
        running = true;
        gate.resume(runningCpus);
    }

    /**
     * Whether a stop that waited is still worth telling: not when gdb has removed the breakpoint
     * since (the vCPU is still at the int3's address and simply runs the original instruction),
     * and never a single step, which gdb asked for in a resume it has since moved past.
     */
    private boolean stillMeaningful(StopEvent event) {
        return switch (event.reason()) {
            case StopReason.SoftwareBreakpoint b -> Arrays.stream(commands.software.addresses()).anyMatch(a -> a == b.address());
            case StopReason.HardwareBreakpoint b -> hasSlot(BreakpointKind.HARDWARE, b.address());
            case StopReason.Watchpoint w -> hasSlot(w.kind(), w.address());
            case StopReason.SingleStep s -> false;
            default -> true;
        };
    }

    private boolean hasSlot(BreakpointKind kind, long address) {
        for (int n = 0; n < HardwareBreakpoints.SLOTS; n++) {
            HardwareBreakpoints.Slot s = commands.hardware.slot(n);
            if (s != null && s.kind() == kind && s.requestAddress() == address) {
                return true;
            }
        }
        return false;
    }

    private void onStop(StopEvent event) throws InterruptedException {
        if (running) {
            stopAll(event);
        } else {
            pending.add(event);
        }
    }

    private void stopAll(StopEvent event) throws InterruptedException {
        gate.pauseAll();
        running = false;
        report(event);
    }

    private void report(StopEvent event) {
        commands.lastStop = event;
        commands.generalCpu = event.cpu();
        commands.continueCpu = event.cpu();
        send(commands.stopReply(event));
    }

    /** Removes every trace of the debugger and lets the guest run, unless the guest is gone. */
    private void leaveGuest() {
        if (targetGone || stub.exited()) {
            stub.arm(ArmedState.none(cpus));
            return;
        }
        try {
            gate.pauseAll();
            int failed = commands.software.removeAll();
            commands.hardware.clear();
            for (int cpu = 0; cpu < cpus; cpu++) {
                if (!applied[cpu].equals(GuestDebug.OFF)) {
                    target.setGuestDebug(cpu, GuestDebug.OFF);
                    applied[cpu] = GuestDebug.OFF;
                }
            }
            if (failed > 0) {
                stub.log("gdb: " + failed + " breakpoint(s) could not be removed from guest memory");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stub.log("gdb: interrupted while removing the debugger's breakpoints");
        } catch (RuntimeException e) {
            stub.log("gdb: could not remove the debugger's breakpoints: " + e.getMessage());
        } finally {
            releaseGuest();
        }
    }

    /** Disarms and lets every vCPU go, touching neither guest memory nor the vCPUs. */
    private void releaseGuest() {
        stub.arm(ArmedState.none(cpus));
        BitSet all = new BitSet();
        all.set(0, cpus);
        gate.resume(all);
    }

    // ---- output

    private void ack(char c) {
        if (!noAck) {
            write(new byte[] {(byte) c});
        }
    }

    private void send(String payload) {
        byte[] framed = Framing.frame(payload, true);
        lastSent = framed;
        write(framed);
    }

    private void write(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            if (!done) {
                stub.log("gdb: lost the debugger connection: " + e.getMessage());
            }
            done = true;
        }
    }

    private static String abbreviate(String payload) {
        String printable = new String(payload.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.US_ASCII);
        return printable.length() > 40 ? printable.substring(0, 40) + "..." : printable;
    }
}
