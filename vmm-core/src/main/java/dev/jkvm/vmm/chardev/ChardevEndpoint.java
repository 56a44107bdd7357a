package dev.jkvm.vmm.chardev;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.host.UnixSocketFile;
import dev.jkvm.vmm.serial.SinkWriter;
import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;

import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * An opened {@link ChardevSpec}: a frontend's output goes into {@link #sink()} (never blocking: see
 * {@link SinkWriter}), and each connection's input goes to the frontend's {@link Session}.
 * A socket server accepts one client at a time (the next waits in the backlog, as in QEMU); with
 * {@code wait=on}, {@link #open} returns only once the first client is there. A client socket
 * connects once, at open. Files and {@code null} have no input.
 *
 * <pre>{@code
 * try (ChardevEndpoint log = ChardevEndpoint.open(spec, "isa-debugcon", null, System.err::println)) {
 *     log.sink().write('A');
 * }
 * }</pre>
 */
public final class ChardevEndpoint implements Closeable {

    /** One connection's input, run on the endpoint's thread until the input ends; {@code out} reaches the peer. */
    @FunctionalInterface
    public interface Session {
        void run(InputStream in, OutputStream out) throws IOException;
    }

    private final ChardevSpec spec;
    private final SinkWriter writer;
    private final OutputStream sink;
    private volatile Closeable resource = () -> { };
    /** The Unix socket file this endpoint listens on (removed on close while still ours), or null. */
    private volatile UnixSocketFile socketFile;
    /** The connected client, closed with the endpoint so its session thread ends too. */
    private volatile SocketChannel current;

    private ChardevEndpoint(ChardevSpec spec, OutputStream initialTarget, UnixSocketFile socketFile) {
        this.spec = spec;
        this.writer = SinkWriter.start("chardev " + spec.id(), initialTarget);
        this.socketFile = socketFile;
        this.sink = writer.stream();
    }

    /**
     * Opens {@code spec} for {@code frontend} (named in errors); {@code session} (may be null:
     * input is read and dropped) serves each connection's input.
     *
     * @throws JkvmException when a file cannot be created, a socket cannot listen or connect
     */
    public static ChardevEndpoint open(ChardevSpec spec, String frontend, Session session, Consumer<String> log) {
        String where = frontend + ": chardev '" + spec.id() + "': ";
        try {
            return switch (spec) {
                case ChardevSpec.Null n -> new ChardevEndpoint(spec, null, null);
                case ChardevSpec.Stdio s -> {
                    ChardevEndpoint e = new ChardevEndpoint(spec, new FileOutputStream(FileDescriptor.out), null);
                    if (session != null) {
                        e.serveInBackground(() -> runQuietly(session, System.in, e.sink));
                    }
                    yield e;
                }
                case ChardevSpec.File f -> {
                    FileOutputStream out = new FileOutputStream(f.path().toFile(), f.append());
                    ChardevEndpoint e = new ChardevEndpoint(spec, out, null);
                    e.resource = out;
                    yield e;
                }
                case ChardevSpec.Socket s when s.server() -> listen(s, where, session, log);
                case ChardevSpec.Socket s -> connect(s, where, session);
            };
        } catch (IOException e) {
            throw new JkvmException(where + e.getMessage());
        }
    }

    private static ChardevEndpoint listen(ChardevSpec.Socket s, String where, Session session, Consumer<String> log)
            throws IOException {
        ServerSocketChannel server;
        UnixSocketFile file = null;
        switch (s.address()) {
            case ChardevSpec.Address.Unix u -> {
                try {
                    file = UnixSocketFile.bind(u.path()); // a stale socket is replaced, any other file refused
                } catch (IOException e) {
                    throw new IOException("cannot listen: " + e.getMessage(), e);
                }
                server = file.channel();
            }
            case ChardevSpec.Address.Tcp t -> {
                server = ServerSocketChannel.open();
                server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                server.bind(new InetSocketAddress(t.host(), t.port()));
            }
        }
        ChardevEndpoint e = new ChardevEndpoint(s, null, file);
        e.resource = server;
        SocketChannel first = null;
        if (s.waitForClient()) {
            log.accept("jkvm: " + where + "waiting for connection on " + s.address() + ",server=on");
            first = server.accept();
        }
        SocketChannel pending = first;
        e.serveInBackground(() -> {
            SocketChannel next = pending;
            while (server.isOpen()) {
                try {
                    if (next == null) {
                        next = server.accept();
                    }
                    e.serve(next, session);
                } catch (IOException ex) {
                    return; // the server socket closed
                } finally {
                    next = null;
                }
            }
        });
        return e;
    }

    private static ChardevEndpoint connect(ChardevSpec.Socket s, String where, Session session) throws IOException {
        SocketAddress address = switch (s.address()) {
            case ChardevSpec.Address.Unix u -> UnixDomainSocketAddress.of(u.path());
            case ChardevSpec.Address.Tcp t -> new InetSocketAddress(t.host(), t.port());
        };
        SocketChannel ch;
        try {
            ch = SocketChannel.open(address);
        } catch (IOException ex) {
            throw new IOException("Failed to connect to '" + s.address() + "': " + ex.getMessage(), ex);
        }
        ChardevEndpoint e = new ChardevEndpoint(s, null, null);
        e.resource = ch;
        e.serveInBackground(() -> {
            try {
                e.serve(ch, session);
            } catch (IOException ex) {
                // the peer went away: output is dropped from now on
            }
        });
        return e;
    }

    /** Runs one connection: output to it while its input lasts. */
    private void serve(SocketChannel ch, Session session) throws IOException {
        current = ch;
        try (ch) {
            OutputStream out = Channels.newOutputStream(ch);
            InputStream in = Channels.newInputStream(ch);
            writer.retarget(out);
            if (session != null) {
                runQuietly(session, in, sink);
            } else {
                byte[] buf = new byte[512];
                while (in.read(buf) >= 0) {
                    // a frontend without input: what the client sends is dropped
                }
            }
            writer.drain(100); // a client that sent its last line and half-closed still gets the answers
        } finally {
            writer.retarget(null);
            current = null;
        }
    }

    private static void runQuietly(Session session, InputStream in, OutputStream out) {
        try {
            session.run(in, out);
        } catch (IOException e) {
            // the peer went away
        }
    }

    private void serveInBackground(Runnable r) {
        Thread.ofPlatform().name("jkvm chardev " + spec.id() + " input").daemon(true).start(r);
    }

    /** Where the frontend writes; never blocks, drops when nobody listens or the peer falls 64 KiB behind. */
    public OutputStream sink() {
        return sink;
    }

    /** The chardev this endpoint opened. */
    public ChardevSpec spec() {
        return spec;
    }

    /** Bytes dropped so far (no client, or a client too slow). */
    public long dropped() {
        return writer.dropped();
    }

    /** Lets queued output out (up to 100 ms), then closes the file or socket. */
    @Override
    public void close() throws IOException {
        writer.drain(100); // a client that stopped reading is not waited for longer: close is a stop path
        writer.close();
        resource.close();
        SocketChannel client = current;
        if (client != null) {
            client.close();
        }
        if (socketFile != null) {
            socketFile.close();
        }
    }
}
