package dev.jkvm.vmm.serial;

import dev.jkvm.devices.Uart16550;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The host side of one serial port: what the guest transmits goes to the backend's stream and
 * into a transcript that callers can wait on line by line; what the host sends is queued here and
 * fed into the UART's receive FIFO as the guest drains it (the UART calls back when it has room),
 * so input is never lost and never polled for.
 *
 * <pre>{@code
 * SerialConsole com1 = machine.serial();
 * com1.waitForLine(Pattern.compile("echo ready"), Duration.ofSeconds(5));
 * com1.send("hello\n");
 * String reply = com1.waitForLine(Pattern.compile("echo: .*"), Duration.ofSeconds(5));
 * }</pre>
 */
public final class SerialConsole {

    /** How much transcript is kept: the most recent bytes beyond this are dropped from the front. */
    public static final int TRANSCRIPT_LIMIT = 4 << 20;

    private volatile OutputStream sink;
    private final Object lock = new Object();
    private final ByteArrayOutputStream transcript = new ByteArrayOutputStream();
    private final List<String> lines = new ArrayList<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final ArrayDeque<byte[]> pending = new ArrayDeque<>();
    private int pendingOffset;
    private long droppedBytes;
    private int consumedLines;
    private Uart16550 uart;

    /** @param sink where transmitted bytes go besides the transcript (standard output, a file, nothing) */
    public SerialConsole(OutputStream sink) {
        this.sink = sink;
    }

    /** Sends what the guest transmits to {@code out} instead of the backend given at construction. */
    public void forwardTo(OutputStream out) {
        this.sink = out;
    }

    /** The stream the UART transmits into. */
    public OutputStream uartSink() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                transmitted((byte) b);
                sink.write(b);
            }

            @Override
            public void flush() throws IOException {
                sink.flush();
            }
        };
    }

    /** Connects the UART whose receive FIFO {@link #send} feeds. */
    public void attach(Uart16550 uart) {
        synchronized (lock) {
            this.uart = uart;
        }
        uart.setInputReadyCallback(this::feed);
    }

    private void transmitted(byte b) {
        synchronized (lock) {
            if (transcript.size() >= TRANSCRIPT_LIMIT) {
                byte[] all = transcript.toByteArray();
                transcript.reset();
                transcript.write(all, all.length / 2, all.length - all.length / 2);
                droppedBytes += all.length / 2;
            }
            transcript.write(b);
            if (b == '\n') {
                String line = partial.toString(StandardCharsets.UTF_8);
                lines.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
                partial.reset();
                lock.notifyAll();
            } else {
                partial.write(b);
            }
        }
    }

    /** Queues bytes for the guest to receive. */
    public void send(byte[] data) {
        synchronized (lock) {
            pending.add(data.clone());
        }
        feed();
    }

    /** Queues a string (UTF-8) for the guest. */
    public void send(String text) {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Moves queued input into the UART while it has room; called again by the UART when it drains. */
    private void feed() {
        synchronized (lock) {
            while (uart != null && !pending.isEmpty()) {
                byte[] head = pending.peek();
                int n = uart.receive(head, pendingOffset, head.length - pendingOffset);
                pendingOffset += n;
                if (pendingOffset == head.length) {
                    pending.poll();
                    pendingOffset = 0;
                } else if (n == 0) {
                    return; // FIFO full: the UART calls back when the guest has read
                }
            }
        }
    }

    /** Everything transmitted so far (the most recent {@link #TRANSCRIPT_LIMIT} bytes), as text. */
    public String transcript() {
        synchronized (lock) {
            return transcript.toString(StandardCharsets.UTF_8);
        }
    }

    /** The last {@code n} complete lines (and the partial one, if any). */
    public String tail(int n) {
        synchronized (lock) {
            StringBuilder sb = new StringBuilder();
            for (int i = Math.max(0, lines.size() - n); i < lines.size(); i++) {
                sb.append(lines.get(i)).append('\n');
            }
            if (partial.size() > 0) {
                sb.append(partial.toString(StandardCharsets.UTF_8));
            }
            return sb.toString();
        }
    }

    /** The complete lines transmitted so far. */
    public List<String> lines() {
        synchronized (lock) {
            return List.copyOf(lines);
        }
    }

    /**
     * Waits for the next line (after those earlier calls returned) that matches {@code pattern}
     * entirely, as {@code expect} does; lines before it are passed over.
     *
     * @return the line, or empty when {@code timeout} passed first
     */
    public Optional<String> awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                while (consumedLines < lines.size()) {
                    String line = lines.get(consumedLines++);
                    if (pattern.matcher(line).matches()) {
                        return Optional.of(line);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    /** Bytes dropped from the front of the transcript to keep it bounded. */
    public long droppedBytes() {
        synchronized (lock) {
            return droppedBytes;
        }
    }
}
