package dev.jkvm.vmm.monitor;

import dev.jkvm.vmm.host.UnixSocketFile;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Carries the {@link Monitor} to people: over standard I/O ({@code -monitor stdio}) or a Unix
 * socket ({@code -monitor unix:PATH,server,nowait}), with QEMU's {@code (qemu)} prompt so the
 * scripts written against QEMU's monitor work unchanged. Each session runs on a daemon thread.
 */
public final class MonitorServer {

    /** What a new session is greeted with. */
    public static final String BANNER = "jkvm monitor - type 'help' for more information";
    /** QEMU's prompt. */
    public static final String PROMPT = "(qemu) ";

    private MonitorServer() {
    }

    /** Serves one session over a pair of streams until the input ends; returns at once. */
    public static Closeable serve(Monitor monitor, InputStream in, OutputStream out) {
        Thread t = Thread.ofPlatform().name("jkvm monitor").daemon(true).start(() -> session(monitor, in, out));
        return t::interrupt;
    }

    /** Runs one session over a pair of streams on the caller's thread until the input ends (a chardev's connection). */
    public static void session(Monitor monitor, InputStream in, OutputStream out) {
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        BoundedLineReader reader = new BoundedLineReader(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
        ps.println(BANNER);
        try {
            while (true) {
                ps.print(PROMPT);
                ps.flush();
                String line = reader.readLine();
                if (line == null) {
                    return;
                }
                ps.print(line == BoundedLineReader.TOO_LONG
                        ? "Error: command line too long (more than " + BoundedLineReader.MAX_LINE + " characters)\n"
                        : monitor.execute(line));
                ps.flush();
            }
        } catch (IOException e) {
            // the peer went away: the session ends, the guest goes on
        }
    }

    /** Sessions served at once on one socket: each is a thread, and a client may connect and never leave. */
    public static final int MAX_SESSIONS = 4;

    /** Counts a new connection in, or tells it the monitor is busy and closes it. */
    private static boolean admit(SocketChannel ch, AtomicInteger sessions) {
        if (sessions.incrementAndGet() <= MAX_SESSIONS) {
            return true;
        }
        sessions.decrementAndGet();
        try (ch) {
            ch.configureBlocking(false); // one line at most, never wait on a client that does not read
            ch.write(ByteBuffer.wrap(("Error: the monitor already serves " + MAX_SESSIONS
                    + " sessions\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // gone already
        }
        return false;
    }

    /**
     * Listens on a Unix socket at {@code path} (replacing a stale socket, refusing any other file:
     * {@link UnixSocketFile}) and serves every connection; closing the result stops listening and
     * removes the socket file if it is still ours.
     */
    public static Closeable listenUnix(Monitor monitor, Path path) throws IOException {
        UnixSocketFile file = UnixSocketFile.bind(path);
        ServerSocketChannel server = file.channel();
        AtomicInteger sessions = new AtomicInteger();
        Thread.ofPlatform().name("jkvm monitor listener").daemon(true).start(() -> {
            while (server.isOpen()) {
                try {
                    SocketChannel ch = server.accept();
                    if (!admit(ch, sessions)) {
                        continue;
                    }
                    Thread.ofPlatform().name("jkvm monitor session").daemon(true).start(() -> {
                        try (ch) {
                            session(monitor, Channels.newInputStream(ch), Channels.newOutputStream(ch));
                        } catch (IOException e) {
                            // closed
                        } finally {
                            sessions.decrementAndGet();
                        }
                    });
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
        return file::close;
    }
}
