package dev.jkvm.vmm.gdb;

import java.util.function.Consumer;

/**
 * Cuts the byte stream from the debugger into {@link Frame}s: {@code $payload#cs} packets
 * (checksum verified, run-length encoding undone), {@code +}/{@code -} acks and the 0x03
 * interrupt. Never throws on bad input: a damaged packet becomes {@link Frame.BadChecksum}, a
 * runaway one {@link Frame.Oversize} (its bytes are dropped up to its end, so a flood costs no
 * memory), stray bytes {@link Frame.Garbage}.
 *
 * <pre>{@code
 * FrameDecoder d = new FrameDecoder(4096, frames::add);
 * d.feed(bytes, n);   // "$g#67" -> Frame.Packet("g")
 * }</pre>
 */
final class FrameDecoder {

    private enum State { IDLE, PAYLOAD, CHECKSUM_HIGH, CHECKSUM_LOW }

    private final int maxPayload;
    private final Consumer<Frame> sink;
    private final StringBuilder raw = new StringBuilder();
    private State state = State.IDLE;
    private boolean overflowed;
    private int rawLength;
    private int checksumHigh;
    private int garbage;

    /** {@code maxPayload}: the longest payload kept, before and after run-length decoding. */
    FrameDecoder(int maxPayload, Consumer<Frame> sink) {
        this.maxPayload = maxPayload;
        this.sink = sink;
    }

    /** Feeds {@code length} bytes of {@code data}. */
    void feed(byte[] data, int length) {
        for (int i = 0; i < length; i++) {
            feed(data[i] & 0xff);
        }
        flushGarbage();
    }

    private void feed(int b) {
        switch (state) {
            case IDLE -> idle(b);
            case PAYLOAD -> payload(b);
            case CHECKSUM_HIGH -> {
                checksumHigh = Character.digit(b, 16);
                state = State.CHECKSUM_LOW;
            }
            case CHECKSUM_LOW -> {
                int low = Character.digit(b, 16);
                state = State.IDLE;
                finish(checksumHigh < 0 || low < 0 ? -1 : checksumHigh << 4 | low);
            }
        }
    }

    private void idle(int b) {
        switch (b) {
            case '$' -> {
                flushGarbage();
                startPacket();
            }
            case '+' -> emit(new Frame.Ack());
            case '-' -> emit(new Frame.Nak());
            case 0x03 -> emit(new Frame.Interrupt());
            default -> garbage++;
        }
    }

    private void payload(int b) {
        if (b == '#') {
            state = State.CHECKSUM_HIGH;
        } else if (b == '$') {
            // A new start inside a packet: the one before was cut off; start over.
            garbage += rawLength + 1;
            startPacket();
        } else {
            rawLength++;
            if (rawLength > maxPayload) {
                overflowed = true;
                raw.setLength(0);
            } else if (!overflowed) {
                raw.append((char) b);
            }
        }
    }

    private void startPacket() {
        raw.setLength(0);
        rawLength = 0;
        overflowed = false;
        state = State.PAYLOAD;
    }

    private void finish(int sentChecksum) {
        if (overflowed) {
            emit(new Frame.Oversize(rawLength));
            return;
        }
        if (sentChecksum != Framing.checksum(raw)) {
            emit(new Frame.BadChecksum(raw.toString()));
            return;
        }
        String decoded = runLengthDecode(raw);
        emit(decoded == null ? new Frame.Oversize(rawLength) : new Frame.Packet(decoded));
    }

    /** Expands {@code c*n} to c repeated n - 29 more times; null when it grows beyond the limit. */
    private String runLengthDecode(CharSequence s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == Framing.RUN && i + 1 < s.length() && out.length() > 0) {
                int repeats = s.charAt(++i) - 29;
                char previous = out.charAt(out.length() - 1);
                if (out.length() + Math.max(repeats, 0) > maxPayload) {
                    return null;
                }
                for (int r = 0; r < repeats; r++) {
                    out.append(previous);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private void flushGarbage() {
        if (garbage > 0) {
            int n = garbage;
            garbage = 0;
            sink.accept(new Frame.Garbage(n));
        }
    }

    private void emit(Frame frame) {
        flushGarbage();
        sink.accept(frame);
    }
}
