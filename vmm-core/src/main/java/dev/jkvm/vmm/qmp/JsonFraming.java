package dev.jkvm.vmm.qmp;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * Splits a client's byte stream into top-level JSON texts, as QEMU's JSON streamer does: a text
 * ends where its outermost brace or bracket closes (or, for a bare scalar, at the next space or
 * structural character), whatever the line breaks. Strings in double or single quotes (QEMU
 * accepts both) and their escapes are followed so braces inside them do not count. A text longer
 * than {@code maxBytes} or nested deeper than {@link #MAX_NESTING} is refused and skipped up to
 * its end, so one bad message costs one error reply and the next one is read normally.
 *
 * <pre>{@code
 * JsonFraming f = new JsonFraming(1 << 20);
 * for (byte b : bytes) f.push(b, frame -> handle(frame));
 * }</pre>
 */
final class JsonFraming {

    /** QEMU's limit on nesting (json-streamer's MAX_NESTING). */
    static final int MAX_NESTING = 1024;

    /** One complete text, or why the bytes up to here were refused. */
    sealed interface Frame {
    }

    record Text(byte[] bytes) implements Frame {
    }

    record Refused(String desc) implements Frame {
    }

    private final int maxBytes;
    private final ByteArrayOutputStream text = new ByteArrayOutputStream();
    private int depth;
    private int quote; // 0 outside a string, else the quote character
    private boolean escape;
    private boolean scalar; // inside a bare top-level scalar (number, keyword, garbage)
    private boolean skipping; // refused: dropping bytes until the text ends

    JsonFraming(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Takes one byte; hands {@code out} the frames it completes (two when it ends a bare scalar and is itself one). */
    void push(int b, Consumer<Frame> out) {
        Frame f = step(b & 0xff, out);
        if (f != null) {
            out.accept(f);
        }
    }

    private Frame step(int b, Consumer<Frame> out) {
        if (quote != 0) {
            if (escape) {
                escape = false;
            } else if (b == '\\') {
                escape = true;
            } else if (b == quote) {
                quote = 0;
            }
            return keep(b, depth == 0);
        }
        if (scalar) {
            if (isDelimiter(b)) {
                scalar = false;
                Frame done = finish();
                if (done != null) {
                    out.accept(done);
                }
                return step(b, out); // the delimiter may start the next text
            }
            return keep(b, false);
        }
        switch (b) {
            case '{', '[' -> {
                depth++;
                if (depth > MAX_NESTING && !skipping) {
                    skipping = true;
                    text.reset();
                    Frame r = new Refused("JSON nesting depth limit exceeded");
                    return r;
                }
                return keep(b, false);
            }
            case '}', ']' -> {
                if (depth == 0) {
                    return new Refused("JSON parse error, stray '" + (char) b + "'");
                }
                depth--;
                return keep(b, depth == 0);
            }
            case '"', '\'' -> {
                quote = b;
                return keep(b, false);
            }
            case ' ', '\t', '\r', '\n' -> {
                return depth == 0 ? null : keep(b, false);
            }
            default -> {
                if (depth == 0) {
                    scalar = true;
                }
                return keep(b, false);
            }
        }
    }

    /** The text so far is complete (for a client that closes right after a bare scalar). */
    Frame end() {
        if (scalar) {
            scalar = false;
            return finish();
        }
        return null;
    }

    private static boolean isDelimiter(int b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '{' || b == '[' || b == '}' || b == ']'
                || b == '"' || b == '\'';
    }

    private Frame keep(int b, boolean complete) {
        if (!skipping) {
            if (text.size() >= maxBytes) {
                skipping = true;
                text.reset();
                Frame r = new Refused("JSON message size limit (" + maxBytes + " bytes) exceeded");
                if (complete) {
                    skipping = false;
                }
                return r;
            }
            text.write(b);
        }
        return complete ? finish() : null;
    }

    private Frame finish() {
        if (skipping) {
            skipping = false;
            text.reset();
            return null;
        }
        byte[] out = text.toByteArray();
        text.reset();
        return new Text(out);
    }
}
