package dev.jkvm.vmm.qmp;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A QMP client for tests, as a tool would be one: reads CR LF-terminated messages (compact
 * mode) on its own thread, keeps replies and events apart, and gives up waiting after a generous
 * bound instead of hanging the test.
 */
final class QmpClient implements Closeable {

    /** Inside scripts/in-vm QEMU's replies to the big queries took more than 30 s on a loaded host. */
    static final Duration WAIT = Duration.ofSeconds(System.getenv("JKVM_IN_VM") != null ? 180 : 30);

    private final SocketChannel channel;
    private final OutputStream out;
    private final BlockingQueue<Map<String, Object>> replies = new LinkedBlockingQueue<>();
    private final BlockingQueue<Map<String, Object>> events = new LinkedBlockingQueue<>();
    private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    final Map<String, Object> greeting;

    private QmpClient(SocketChannel channel) throws Exception {
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        InputStream in = Channels.newInputStream(channel);
        Thread.ofPlatform().daemon(true).name("qmp test client").start(() -> readLoop(in));
        greeting = take(replies, "the greeting");
    }

    /** Connects to a Unix socket QMP server. */
    static QmpClient unix(Path path) throws Exception {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(path));
        return new QmpClient(ch);
    }

    /** Connects to a loopback TCP QMP server. */
    static QmpClient tcp(int port) throws Exception {
        SocketChannel ch = SocketChannel.open(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
        return new QmpClient(ch);
    }

    /** Connects, then negotiates capabilities. */
    static QmpClient negotiated(Path path) throws Exception {
        QmpClient c = unix(path);
        c.execute("qmp_capabilities");
        return c;
    }

    @SuppressWarnings("unchecked")
    private void readLoop(InputStream in) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try {
            int b;
            while ((b = in.read()) >= 0) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                String l = line.toString(StandardCharsets.UTF_8);
                line.reset();
                if (!l.endsWith("\r")) {
                    throw new IllegalStateException("a line without CR LF: " + l);
                }
                l = l.substring(0, l.length() - 1);
                lines.add(l);
                Map<String, Object> m = (Map<String, Object>) Json.parse(l.getBytes(StandardCharsets.UTF_8));
                (m.containsKey("event") ? events : replies).add(m);
            }
        } catch (Exception e) {
            // closed
        }
        replies.add(Map.of("closed", true));
    }

    /** Every line received so far, as sent. */
    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    void sendRaw(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Sends a request and returns the whole reply ({@code return} or {@code error}). */
    Map<String, Object> request(String command, Map<String, Object> arguments) throws Exception {
        Map<String, Object> req = QmpCommands.map("execute", command);
        if (arguments != null) {
            req.put("arguments", arguments);
        }
        sendRaw(Json.write(req, false) + "\n");
        return take(replies, "the reply to " + command);
    }

    /** The next reply, for requests sent with {@link #sendRaw}. */
    Map<String, Object> nextReply() throws Exception {
        return take(replies, "a reply");
    }

    /** Sends a request and returns its {@code return}, failing on an error reply. */
    Object execute(String command, Object... kv) throws Exception {
        Map<String, Object> r = request(command, kv.length == 0 ? null : QmpCommands.map(kv));
        if (!r.containsKey("return")) {
            throw new AssertionError(command + " failed: " + r);
        }
        return r.get("return");
    }

    /** The next event called {@code name} (earlier ones of other names are skipped and kept in {@link #skipped}). */
    Map<String, Object> awaitEvent(String name) throws Exception {
        long end = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < end) {
            Map<String, Object> e = events.poll(100, TimeUnit.MILLISECONDS);
            if (e != null && e.get("event").equals(name)) {
                return e;
            }
            if (e != null) {
                skipped.add(e);
            }
        }
        throw new AssertionError("no " + name + " event; lines: " + lines());
    }

    final List<Map<String, Object>> skipped = new ArrayList<>();

    /** The events received and not yet taken. */
    List<Map<String, Object>> pendingEvents() {
        List<Map<String, Object>> l = new ArrayList<>();
        events.drainTo(l);
        return l;
    }

    /** Whether the server closed the connection (waits up to the bound). */
    boolean closedByServer() throws Exception {
        Map<String, Object> r = replies.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        return r != null && r.containsKey("closed");
    }

    private static Map<String, Object> take(BlockingQueue<Map<String, Object>> q, String what) throws Exception {
        Map<String, Object> m = q.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (m == null || m.containsKey("closed")) {
            throw new AssertionError(m == null ? "no " + what + " in " + WAIT : "the server closed the connection before " + what);
        }
        return m;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
