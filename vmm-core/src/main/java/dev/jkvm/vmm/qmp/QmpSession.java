package dev.jkvm.vmm.qmp;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One QMP client, as QEMU's monitor serves it: the greeting, capabilities negotiation (until
 * {@code qmp_capabilities} every command is answered with {@code CommandNotFound}), then one
 * reply per request with its {@code id}, and the machine's events in between.
 *
 * <p>A reader thread parses and runs requests; a writer thread sends what a bounded queue holds.
 * A client that stops reading stalls only itself: its own replies wait for room, events meant
 * for it are dropped once the queue is full (counted), and the guest and machine never wait.
 */
final class QmpSession {

    /** The largest request accepted (QEMU allows 64 MiB tokens; no QMP command needs more than a few KiB). */
    static final int MAX_REQUEST_BYTES = 1 << 20;
    /** Messages waiting for a slow client before its events are dropped. */
    static final int QUEUE_CAPACITY = 256;
    private static final String END = new String("end of session");

    private final QmpCommands commands;
    private final InputStream in;
    private final OutputStream out;
    private final boolean pretty;
    private final Runnable onEnd;
    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final AtomicLong droppedEvents = new AtomicLong();
    private volatile boolean negotiated;
    private volatile boolean closed;
    private Thread reader;
    private Thread writer;

    QmpSession(QmpCommands commands, InputStream in, OutputStream out, boolean pretty, Runnable onEnd) {
        this.commands = commands;
        this.in = in;
        this.out = out;
        this.pretty = pretty;
        this.onEnd = onEnd;
    }

    /** Greets the client and starts serving it. */
    void start() {
        send(greeting());
        writer = Thread.ofPlatform().name("jkvm qmp writer").daemon(true).start(this::writeLoop);
        reader = Thread.ofPlatform().name("jkvm qmp").daemon(true).start(this::readLoop);
    }

    static Map<String, Object> greeting() {
        return QmpCommands.map("QMP", QmpCommands.map("version", QmpCommands.version(), "capabilities", List.of()));
    }

    /** Whether the client finished capabilities negotiation (events go only to such clients, as in QEMU). */
    boolean negotiated() {
        return negotiated;
    }

    /** Queues an event; drops it when the client is too far behind. Never blocks. */
    void event(Map<String, Object> event) {
        if (!negotiated || closed) {
            return;
        }
        if (!queue.offer(line(event))) {
            droppedEvents.incrementAndGet();
        }
    }

    /** Events dropped because the client did not read. */
    long droppedEvents() {
        return droppedEvents.get();
    }

    private String line(Object message) {
        return (Json.write(message, pretty) + "\n").replace("\n", "\r\n"); // QEMU's monitor ends lines with CR LF
    }

    /** Queues a reply; waits for room (only this client's reader waits), gives up when the session ends. */
    private void send(Object message) {
        String l = line(message);
        try {
            while (!closed && !queue.offer(l, 100, TimeUnit.MILLISECONDS)) {
                // the client reads nothing: its next request waits with it
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void writeLoop() {
        try {
            while (true) {
                String l = queue.take();
                if (l == END) {
                    return;
                }
                out.write(l.getBytes(StandardCharsets.UTF_8));
                if (queue.isEmpty()) {
                    out.flush();
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away
        } finally {
            closed = true;
            closeQuietly();
        }
    }

    private void readLoop() {
        JsonFraming framing = new JsonFraming(MAX_REQUEST_BYTES);
        try (InputStream buffered = new BufferedInputStream(in, 8192)) {
            int b;
            while (!closed && (b = buffered.read()) >= 0) {
                framing.push(b, this::handle);
            }
            JsonFraming.Frame last = framing.end();
            if (last != null) {
                handle(last);
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            finish();
        }
    }

    private void handle(JsonFraming.Frame frame) {
        switch (frame) {
            case JsonFraming.Refused r -> send(error(QmpError.generic(r.desc()), null, false));
            case JsonFraming.Text t -> {
                Object request;
                try {
                    request = Json.parse(t.bytes());
                } catch (Json.ParseError e) {
                    send(error(QmpError.generic(e.getMessage()), null, false));
                    return;
                }
                Map<String, Object> reply = dispatch(request);
                if (reply.get("return") instanceof QmpCommands.AfterReply after) {
                    reply.put("return", after.result());
                    send(reply);
                    after.action().run();
                } else {
                    send(reply);
                }
            }
        }
    }

    /** Answers one parsed request. */
    @SuppressWarnings("unchecked")
    Map<String, Object> dispatch(Object request) {
        if (!(request instanceof Map<?, ?>)) {
            return error(QmpError.generic("QMP input must be a JSON object"), null, false);
        }
        Map<String, Object> req = (Map<String, Object>) request;
        boolean hasId = req.containsKey("id");
        Object id = req.get("id");
        try {
            String name = checkRequest(req);
            Map<String, Object> args = req.containsKey("arguments") ? (Map<String, Object>) req.get("arguments") : Map.of();
            Object result;
            if (name.equals("qmp_capabilities")) {
                result = capabilities(args);
            } else if (!negotiated) {
                throw new QmpError(QmpError.ErrorClass.CommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'");
            } else {
                result = commands.execute(name, args);
            }
            Map<String, Object> reply = QmpCommands.map("return", result);
            if (hasId) {
                reply.put("id", id);
            }
            return reply;
        } catch (QmpError e) {
            return error(e, id, hasId);
        } catch (RuntimeException e) {
            String m = e.getMessage();
            return error(QmpError.generic(m == null ? e.getClass().getSimpleName() : m), id, hasId);
        }
    }

    /** QEMU's checks of a request's members (qmp_dispatch_check_obj); returns the command's name. */
    private static String checkRequest(Map<String, Object> req) {
        for (Map.Entry<String, Object> e : req.entrySet()) {
            switch (e.getKey()) {
                case "execute" -> {
                    if (!(e.getValue() instanceof String)) {
                        throw QmpError.generic("QMP input member 'execute' must be a string");
                    }
                }
                case "arguments" -> {
                    if (!(e.getValue() instanceof Map)) {
                        throw QmpError.generic("QMP input member 'arguments' must be an object");
                    }
                }
                case "id" -> {
                }
                default -> throw QmpError.generic("QMP input member '" + e.getKey() + "' is unexpected");
            }
        }
        if (!req.containsKey("execute")) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        return (String) req.get("execute");
    }

    private Object capabilities(Map<String, Object> args) {
        if (negotiated) {
            throw new QmpError(QmpError.ErrorClass.CommandNotFound, "Capabilities negotiation is already complete, command ignored");
        }
        Arguments a = Arguments.check(args, List.of(Arguments.Param.optional("enable", Arguments.Type.LIST)));
        List<Object> enable = a.optionalList("enable").orElse(List.of());
        for (int i = 0; i < enable.size(); i++) {
            Arguments.checkType("enable[" + i + "]", enable.get(i), Arguments.Type.STR);
        }
        for (Object cap : enable) {
            if (!cap.equals("oob")) {
                throw QmpError.generic("Parameter 'null' does not accept value '" + cap + "'"); // QEMU 7.2's words
            }
        }
        if (!enable.isEmpty()) {
            throw QmpError.generic("Capability 'oob' not available"); // jkvm has no out-of-band execution
        }
        negotiated = true;
        return QmpCommands.map();
    }

    private static Map<String, Object> error(QmpError e, Object id, boolean hasId) {
        Map<String, Object> reply = QmpCommands.map("error",
                QmpCommands.map("class", e.errorClass().name(), "desc", e.getMessage()));
        if (hasId) {
            reply.put("id", id);
        }
        return reply;
    }

    /** The input ended: what is queued still goes out, then the connection closes. */
    private void finish() {
        if (!closed) {
            queue.offer(END);
        }
        onEnd.run();
    }

    /** Sends what is queued (waiting at most {@code millis}), then closes the connection. */
    void close(long millis) {
        if (!closed) {
            try {
                if (queue.offer(END, millis, TimeUnit.MILLISECONDS) && writer != null) {
                    writer.join(millis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closed = true;
        closeQuietly();
        if (writer != null) {
            writer.interrupt();
        }
    }

    private void closeQuietly() {
        try {
            out.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
