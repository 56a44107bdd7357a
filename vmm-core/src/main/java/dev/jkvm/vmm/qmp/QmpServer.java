package dev.jkvm.vmm.qmp;

import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineEvent;
import dev.jkvm.vmm.QmpSpec;
import dev.jkvm.vmm.monitor.Monitor;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A QMP monitor on one endpoint ({@code -qmp}): it serves one client at a time, as QEMU's
 * socket character device does; a second client that connects meanwhile is closed (without a
 * greeting) unless the first leaves within a second, and the first is not disturbed. The machine's events go to the client
 * that finished capabilities negotiation.
 *
 * <pre>{@code
 * try (QmpServer qmp = QmpServer.start(machine, new Monitor(machine), QmpSpec.unix(Path.of("/tmp/q.sock")))) {
 *     machine.run();
 * }
 * }</pre>
 */
public final class QmpServer implements Closeable {

    /** How long closing waits for what is queued for the client (the SHUTDOWN event, the last reply). */
    private static final long DRAIN_MILLIS = 1000;

    private final QmpCommands commands;
    private final QmpSpec spec;
    private final ServerSocketChannel listener;
    private final AtomicReference<QmpSession> current = new AtomicReference<>();
    private final CountDownLatch firstClient = new CountDownLatch(1);
    private volatile boolean closed;
    /** Notified when the current client's session ends (or the server closes). */
    private final Object sessionEnded = new Object();

    private QmpServer(Machine machine, Monitor monitor, QmpSpec spec, ServerSocketChannel listener) {
        this.commands = new QmpCommands(machine, monitor);
        this.spec = spec;
        this.listener = listener;
        machine.onEvent(this::forward);
        // As QEMU's process ends with its guest, the client's connection ends with the run.
        machine.whenEnded(() -> Thread.ofPlatform().daemon(true).name("jkvm qmp close").start(() -> {
            try {
                close();
            } catch (IOException ignored) {
                // the socket file is gone already
            }
        }));
    }

    /**
     * Starts serving {@code spec}: listens on its socket (replacing a stale Unix socket file), or
     * serves standard I/O at once.
     */
    public static QmpServer start(Machine machine, Monitor monitor, QmpSpec spec) throws IOException {
        return switch (spec.kind()) {
            case STDIO -> {
                QmpServer s = new QmpServer(machine, monitor, spec, null);
                s.serve(new FilterInputStream(System.in) {
                    @Override
                    public void close() {
                        // standard input stays open for the rest of jkvm
                    }
                }, new FilterOutputStream(System.out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        flush();
                    }
                });
                yield s;
            }
            case UNIX -> {
                Files.deleteIfExists(spec.path());
                ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.bind(UnixDomainSocketAddress.of(spec.path()));
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                yield new QmpServer(machine, monitor, spec, ch).acceptLoop();
            }
            case TCP -> {
                ServerSocketChannel ch = ServerSocketChannel.open();
                try {
                    InetAddress host = spec.host().isEmpty() ? InetAddress.getLoopbackAddress() : InetAddress.getByName(spec.host());
                    ch.bind(new InetSocketAddress(host, spec.port()));
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                yield new QmpServer(machine, monitor, spec, ch).acceptLoop();
            }
        };
    }

    /** The TCP port it listens on ({@code tcp::0} picks one), or -1. */
    public int port() {
        try {
            return listener != null && listener.getLocalAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Waits until a first client connected ({@code server} without {@code wait=off}). */
    public void awaitFirstClient() throws InterruptedException {
        firstClient.await();
    }

    /** Events dropped for the current client because it did not read (0 without one). */
    public long droppedEvents() {
        QmpSession s = current.get();
        return s == null ? 0 : s.droppedEvents();
    }

    private QmpServer acceptLoop() {
        Thread.ofPlatform().name("jkvm qmp listener").daemon(true).start(() -> {
            while (!closed) {
                SocketChannel ch;
                try {
                    ch = listener.accept();
                } catch (IOException e) {
                    return; // closed
                }
                awaitNoSession(1000); // a client that just hung up may not be seen gone yet: give it a second
                if (current.get() != null || closed) {
                    try {
                        ch.close(); // one client at a time: the one connected keeps the monitor
                    } catch (IOException ignored) {
                        // gone anyway
                    }
                    continue;
                }
                serve(Channels.newInputStream(ch), Channels.newOutputStream(ch));
            }
        });
        return this;
    }

    /** Waits up to {@code millis} for the current session to end (or the server to close). */
    private void awaitNoSession(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        synchronized (sessionEnded) {
            while (current.get() != null && !closed) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return;
                }
                try {
                    sessionEnded.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void sessionEnded() {
        synchronized (sessionEnded) {
            sessionEnded.notifyAll();
        }
    }

    private void serve(InputStream in, OutputStream out) {
        QmpSession[] self = new QmpSession[1];
        QmpSession s = new QmpSession(commands, in, out, spec.pretty(), () -> {
            current.compareAndSet(self[0], null);
            sessionEnded();
        });
        self[0] = s;
        current.set(s);
        s.start();
        firstClient.countDown();
    }

    private void forward(MachineEvent e) {
        QmpSession s = current.get();
        if (s != null) {
            Instant t = Instant.now();
            s.event(event(e, t.getEpochSecond() * 1_000_000 + t.getNano() / 1000));
        }
    }

    /** An event in QEMU's wire form, stamped {@code micros} since the epoch. */
    static Map<String, Object> event(MachineEvent e, long micros) {
        Map<String, Object> m = QmpCommands.map("timestamp",
                QmpCommands.map("seconds", micros / 1_000_000, "microseconds", micros % 1_000_000));
        switch (e) {
            case MachineEvent.Stop s -> m.put("event", "STOP");
            case MachineEvent.Resume r -> m.put("event", "RESUME");
            case MachineEvent.Reset r -> {
                m.put("event", "RESET");
                m.put("data", QmpCommands.map("guest", r.guest(), "reason", r.reason()));
            }
            case MachineEvent.Powerdown p -> m.put("event", "POWERDOWN");
            case MachineEvent.Suspend s -> m.put("event", "SUSPEND");
            case MachineEvent.Wakeup w -> m.put("event", "WAKEUP");
            case MachineEvent.GuestPanicked g -> {
                m.put("event", "GUEST_PANICKED");
                m.put("data", QmpCommands.map("action", "poweroff"));
            }
            case MachineEvent.Shutdown s -> {
                m.put("event", "SHUTDOWN");
                m.put("data", QmpCommands.map("guest", s.guest(), "reason", s.reason()));
            }
        }
        return m;
    }

    /** Stops listening, sends the client what is queued for it (up to a second), closes it and removes the socket file. */
    @Override
    public void close() throws IOException {
        closed = true;
        sessionEnded();
        if (listener != null) {
            listener.close();
        }
        QmpSession s = current.getAndSet(null);
        if (s != null) {
            s.close(DRAIN_MILLIS);
        }
        if (spec.kind() == QmpSpec.Kind.UNIX) {
            Files.deleteIfExists(spec.path());
        }
        firstClient.countDown();
    }
}
