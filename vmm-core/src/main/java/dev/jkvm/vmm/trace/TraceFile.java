package dev.jkvm.vmm.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The trace's file: a head, the events (JSON objects separated by commas), and a tail that closes
 * the document. The bytes are built by hand into one buffer ({@code StringBuilder}-style, but of
 * ASCII bytes, so that numbers cost no {@code String}); {@link #checkpoint} writes the tail and
 * steps back over it, so the file on disk is a complete document after every flush and the next
 * events overwrite that tail.
 *
 * <pre>{@code
 * TraceFile f = TraceFile.create(path, "{\"traceEvents\":[", 1 << 20);
 * f.beginEvent().ascii("{\"ph\":\"i\"}");
 * f.finish("]}");
 * }</pre>
 */
final class TraceFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private byte[] buf;
    private int len;
    private long events;
    private long written;

    private TraceFile(Path path, FileChannel channel, int bufferSize) {
        this.path = path;
        this.channel = channel;
        this.buf = new byte[bufferSize];
    }

    /** Creates (or truncates) {@code path} and writes {@code head}. */
    static TraceFile create(Path path, String head, int bufferSize) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        TraceFile f = new TraceFile(path, ch, bufferSize);
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
        if (events++ > 0) {
            ensure(2);
            buf[len++] = ',';
            buf[len++] = '\n'; // one event a line: grep and line tools work on the file
        }
        if (len > buf.length - 4096) {
            drainBuffer();
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

    /** Writes the buffered events and then {@code tail}, leaving the file position before the tail. */
    void checkpoint(String tail) {
        drainBuffer();
        try {
            long at = channel.position();
            writeFully(ByteBuffer.wrap(tail.getBytes(StandardCharsets.UTF_8)));
            channel.truncate(channel.position());
            channel.position(at);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes everything and {@code tail}, and closes the file. */
    void finish(String tail) {
        ascii("");
        drainBuffer();
        try {
            writeFully(ByteBuffer.wrap(tail.getBytes(StandardCharsets.UTF_8)));
            channel.truncate(channel.position());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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

    private void ensure(int n) {
        if (len + n > buf.length) {
            drainBuffer();
            if (n > buf.length) {
                buf = new byte[Math.max(n, buf.length * 2)];
            }
        }
    }

    private void drainBuffer() {
        if (len == 0) {
            return;
        }
        try {
            writeFully(ByteBuffer.wrap(buf, 0, len));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        written += len;
        len = 0;
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
