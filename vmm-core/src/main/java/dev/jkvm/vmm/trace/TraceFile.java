package dev.jkvm.vmm.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The trace's file: a head, the events (JSON objects separated by commas), and a tail that closes
 * the document. The bytes are built by hand into one buffer ({@code StringBuilder}-style, but of
 * ASCII bytes, so that numbers cost no {@code String}). Every time the buffer goes to disk, the
 * tail goes after it in the same gathering write, and the next events overwrite it: the file on
 * disk is a complete document between writes, while the guest still runs.
 *
 * <pre>{@code
 * TraceFile f = TraceFile.create(path, "{\"traceEvents\":[", () -> "]}", 1 << 20);
 * f.beginEvent().ascii("{\"ph\":\"i\"}");
 * f.finish();
 * }</pre>
 */
final class TraceFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final Supplier<String> tail;
    private byte[] buf;
    private int len;
    private long events;
    private long written;

    private TraceFile(Path path, FileChannel channel, Supplier<String> tail, int bufferSize) {
        this.path = path;
        this.channel = channel;
        this.tail = tail;
        this.buf = new byte[bufferSize];
    }

    /**
     * Creates (or truncates) {@code path} and buffers {@code head}; {@code tail} gives the closing
     * text each time it is written (on the writer's thread).
     */
    static TraceFile create(Path path, String head, Supplier<String> tail, int bufferSize) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        TraceFile f = new TraceFile(path, ch, tail, bufferSize);
        f.ascii(head);
        return f;
    }

    Path path() {
        return path;
    }

    /** Events begun so far. */
    long events() {
        return events;
    }

    /** Bytes of events and head written to the file or buffered (the tail not counted). */
    long size() {
        return written + len;
    }

    /** Starts the next event (the comma between events). */
    TraceFile beginEvent() {
        if (len > buf.length - 4096) {
            drainBuffer(); // between two events, so the file on disk ends in a whole one
        }
        if (events++ > 0) {
            ensure(2);
            buf[len++] = ',';
            buf[len++] = '\n'; // one event a line: grep and line tools work on the file
        }
        return this;
    }

    /** Appends ASCII text as it is (JSON syntax, or text known to need no escape). */
    TraceFile ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    /** Appends pre-encoded bytes. */
    TraceFile bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    /** Appends a JSON string literal, quotes included. */
    TraceFile string(String s) {
        return bytes(quote(s));
    }

    /**
     * {@code s} as a JSON string literal in UTF-8. {@code <}, {@code >} and {@code &} are escaped too,
     * so the text may stand inside an HTML {@code <script>} element.
     */
    static byte[] quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Appends a decimal integer. */
    TraceFile number(long v) {
        ensure(20);
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                return ascii(Long.toString(v));
            }
            buf[len++] = '-';
            v = -v;
        }
        int start = len;
        do {
            buf[len++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (int i = start, j = len - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        return this;
    }

    /** Appends nanoseconds as microseconds with three decimals (the trace format's unit). */
    TraceFile micros(long nanos) {
        if (nanos < 0) {
            ascii("-");
            nanos = -nanos;
        }
        number(nanos / 1000);
        long frac = nanos % 1000;
        ensure(4);
        buf[len++] = '.';
        buf[len++] = (byte) ('0' + frac / 100);
        buf[len++] = (byte) ('0' + frac / 10 % 10);
        buf[len++] = (byte) ('0' + frac % 10);
        return this;
    }

    /** Appends {@code 0x} and the lower-case hex digits of {@code v}. */
    TraceFile hex(long v) {
        return ascii("0x").ascii(Long.toHexString(v));
    }

    /** Writes the buffered events and the tail: the file is then complete up to here. */
    void checkpoint() {
        drainBuffer();
    }

    /** Writes everything and the tail, and closes the file. */
    void finish() {
        try {
            drainBuffer();
        } finally {
            close();
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more can be written anyway
        }
    }

    /** Room for {@code n} more bytes: the buffer grows rather than being written in the middle of an event. */
    private void ensure(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(len + n, buf.length * 2));
        }
    }

    /** The buffered events and then the tail in one gathering write; the next events go where the tail starts. */
    private void drainBuffer() {
        try {
            long at = channel.position();
            ByteBuffer events = ByteBuffer.wrap(buf, 0, len);
            ByteBuffer end = ByteBuffer.wrap(tail.get().getBytes(StandardCharsets.UTF_8));
            ByteBuffer[] both = {events, end};
            while (events.hasRemaining() || end.hasRemaining()) {
                channel.write(both);
            }
            channel.truncate(channel.position());
            channel.position(at + len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        written += len;
        len = 0;
    }

}
