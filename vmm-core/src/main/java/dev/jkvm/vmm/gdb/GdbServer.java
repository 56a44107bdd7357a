package dev.jkvm.vmm.gdb;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.host.UnixSocketFile;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Listens for gdb on a TCP port (loopback unless a host is given) or a Unix socket, and runs one
 * debugger session at a time on its own thread; a second connection meanwhile is refused with
 * one log line. A debugger that disconnects, sends garbage or oversize packets costs a log line,
 * never the guest's state or the server.
 *
 * <pre>{@code
 * try (GdbServer server = GdbServer.start(GdbEndpoint.DEFAULT, stub, System.err::println)) {
 *     ... run the machine; call stub.guestExited(status) when it ends ...
 * }
 * }</pre>
 */
public final class GdbServer implements AutoCloseable {

    /** How long {@link #close} waits for the session to leave the guest clean. */
    private static final long SESSION_JOIN_MILLIS = 5000;
    /** How long a session that is not stuck takes to end on its own (it then still says goodbye). */
    private static final long SESSION_LEAVE_MILLIS = 100;

    private final ServerSocketChannel server;
    private final GdbStub stub;
    private final Consumer<String> log;
    private final Path unixPath;
    private final UnixSocketFile unixFile;
    private final Thread acceptor;
    private volatile Thread session;
    private volatile boolean closing;

    private GdbServer(ServerSocketChannel server, GdbStub stub, Consumer<String> log, Path unixPath,
                      UnixSocketFile unixFile) {
        this.server = server;
        this.unixFile = unixFile;
        this.stub = stub;
        this.log = log;
        this.unixPath = unixPath;
        this.acceptor = Thread.ofPlatform().daemon().name("gdb-server").unstarted(this::acceptLoop);
    }

    /** Binds and starts listening; a {@link JkvmException} with one line when the endpoint cannot be bound. */
    public static GdbServer start(GdbEndpoint endpoint, GdbStub stub, Consumer<String> log) {
        ServerSocketChannel channel = null;
        Path unixPath = null;
        UnixSocketFile unixFile = null;
        try {
            switch (endpoint) {
                case GdbEndpoint.Tcp tcp -> {
                    channel = ServerSocketChannel.open();
                    channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    InetAddress host = tcp.host().isEmpty() ? InetAddress.getLoopbackAddress() : InetAddress.getByName(tcp.host());
                    channel.bind(new InetSocketAddress(host, tcp.port()));
                }
                case GdbEndpoint.Unix unix -> {
                    unixFile = UnixSocketFile.bind(unix.path());
                    unixPath = unix.path();
                    channel = unixFile.channel();
                }
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw new JkvmException("gdb: cannot listen on " + endpoint + ": " + e.getMessage(), e);
        }
        GdbServer server = new GdbServer(channel, stub, log, unixPath, unixFile);
        server.acceptor.start();
        return server;
    }

    /** The address actually bound (the real port when 0 was asked for). */
    public SocketAddress address() {
        try {
            return server.getLocalAddress();
        } catch (IOException e) {
            throw new JkvmException("gdb: the server socket is closed", e);
        }
    }

    /** The TCP port bound, or -1 for a Unix socket. */
    public int port() {
        return address() instanceof InetSocketAddress inet ? inet.getPort() : -1;
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closing) {
                    log.accept("gdb: accepting a connection failed: " + e.getMessage());
                }
                continue;
            }
            Connection connection = Connection.of(client);
            if (!stub.tryAttach()) {
                log.accept("gdb: refused a connection from " + connection.peer() + ": a debugger is already attached");
                connection.close();
                continue;
            }
            if (unixPath == null) {
                try {
                    client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                } catch (IOException e) {
                    // Only latency suffers.
                }
            }
            session = Thread.ofPlatform().daemon().name("gdb-session").start(() -> stub.serve(connection));
        }
    }

    /** Stops listening and ends the session in progress (its breakpoints removed, the guest resumed). */
    @Override
    public void close() {
        closing = true;
        closeQuietly(server);
        try {
            acceptor.join();
            Thread s = session;
            if (s != null) {
                stub.endSession();
                s.join(SESSION_LEAVE_MILLIS);
                if (s.isAlive()) {
                    stub.dropConnection(); // e.g. blocked writing to a client that never reads
                    s.join(SESSION_JOIN_MILLIS);
                }
                if (s.isAlive()) {
                    log.accept("gdb: the debugger session did not end; leaving it behind");
                    s.interrupt();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (unixFile != null) {
            try {
                unixFile.close(); // removes the file only while it is still our socket
            } catch (IOException e) {
                log.accept("gdb: could not remove " + unixPath + ": " + e.getMessage());
            }
        }
    }

    private static void closeQuietly(Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // Already broken.
            }
        }
    }
}
