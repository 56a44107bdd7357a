package dev.jkvm.vmm.serial;

import dev.jkvm.devices.Uart16550;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The host side of one serial port: what the guest transmits goes to the backend's stream (through a
 * {@link SinkWriter}, so a sink that stops reading never blocks the vCPU) and into a transcript that
 * callers can wait on line by line; what the host sends is queued here (bounded) and fed into the
 * UART's receive FIFO as the guest drains it (the UART calls back when it has room), so input is
 * never lost, never polled for, and a sender faster than the guest is held back.
 *
 * <pre>{@code
 * SerialConsole com1 = machine.serial();
 * com1.awaitLine(Pattern.compile("echo ready"), Duration.ofSeconds(5));
 * com1.send("hello\n");
 * Optional<String> reply = com1.awaitLine(Pattern.compile("echo: .*"), Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>Everything it keeps is capped, whatever the guest prints: the transcript ({@link #TRANSCRIPT_LIMIT}),
 * the lines ({@link #LINES_LIMIT} lines, {@link #LINES_CHARS_LIMIT} characters), a line without a
 * newline ({@link #LINE_LIMIT}, then it is split), output waiting for a slow sink
 * ({@link SinkWriter#CAPACITY}) and input waiting for the guest ({@link #INPUT_LIMIT}).
 *
 * <p>Lock order (the deadlock of issue 17 was a cycle here): the vCPU holds the UART's lock while it
 * transmits and takes this console's output lock, then the sink writer's; both are leaves. The input
 * path takes its own input lock only to copy bytes in or out and calls the UART with no lock of
 * this class held. So no thread ever holds a console lock while it waits for the UART's.
 */
public final class SerialConsole {

    /** How much transcript is kept: the most recent bytes beyond this are dropped from the front. */
    public static final int TRANSCRIPT_LIMIT = 4 << 20;
    /** Complete lines kept for {@link #lines()}, {@link #tail} and {@link #awaitLine}, the newest. */
    public static final int LINES_LIMIT = 64 << 10;
    /** Characters those lines may hold in all. */
    public static final int LINES_CHARS_LIMIT = 4 << 20;
    /** A line longer than this (the guest never sent a newline) is split here. */
    public static final int LINE_LIMIT = 64 << 10;
    /** Input bytes queued for a guest that has not read them yet; a sender waits beyond this. */
    public static final int INPUT_LIMIT = 64 << 10;

    private final String name;
    private volatile SinkWriter writer;

    private final Object lock = new Object();
    // guarded by lock: the output side
    private final ByteRing transcript = new ByteRing(TRANSCRIPT_LIMIT);
    private final LineRing lines = new LineRing(LINES_LIMIT, LINES_CHARS_LIMIT);
    private byte[] partial = new byte[128];
    private int partialLength;
    private long splitLines;
    private long consumedLines;

    private final Object inputLock = new Object();
    // guarded by inputLock: the input side
    private byte[] input;
    private int inputHead;
    private int inputCount;
    private boolean feeding;
    private boolean feedAgain;
    private boolean closed;
    private Uart16550 uart;
    /** Owned by whoever is feeding (one thread at a time): the bytes offered to the UART. */
    private final byte[] feedChunk = new byte[Uart16550.FIFO_SIZE];

    /** @param sink where transmitted bytes go besides the transcript (standard output, a file), or null for nowhere */
    public SerialConsole(OutputStream sink) {
        this("COM1", sink);
    }

    /**
     * @param name the port's name ({@code COM1}), for the writer thread and messages
     * @param sink where transmitted bytes go besides the transcript, or null for nowhere (no thread then)
     */
    public SerialConsole(String name, OutputStream sink) {
        this.name = name;
        this.writer = sink == null ? null : SinkWriter.start(name, sink);
    }

    /** The port's name. */
    public String name() {
        return name;
    }

    /** Sends what the guest transmits to {@code out} instead of the backend given at construction. */
    public void forwardTo(OutputStream out) {
        SinkWriter old = writer;
        writer = SinkWriter.start(name, out);
        if (old != null) {
            old.close();
        }
    }

    /** The stream the UART transmits into: never blocks (see {@link SinkWriter}). */
    public OutputStream uartSink() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                transmitted((byte) b);
                SinkWriter w = writer;
                if (w != null) {
                    w.put((byte) b);
                }
            }

            @Override
            public void flush() {
                // the writer flushes after each chunk it hands the sink
            }
        };
    }

    /** Connects the UART whose receive FIFO {@link #send} feeds. */
    public void attach(Uart16550 uart) {
        synchronized (inputLock) {
            this.uart = uart;
        }
        uart.setInputReadyCallback(this::feed);
        feed(); // what was sent before
    }

    private void transmitted(byte b) {
        synchronized (lock) {
            transcript.put(b);
            if (b == '\n') {
                endLine();
                return;
            }
            if (partialLength == partial.length) {
                if (partialLength == LINE_LIMIT) {
                    endLine(); // no newline for LINE_LIMIT bytes: keep it as a line of its own
                    splitLines++;
                } else {
                    partial = Arrays.copyOf(partial, Math.min(LINE_LIMIT, partial.length * 2));
                }
            }
            partial[partialLength++] = b;
        }
    }

    private void endLine() {
        int n = partialLength;
        if (n > 0 && partial[n - 1] == '\r') {
            n--;
        }
        lines.add(new String(partial, 0, n, StandardCharsets.UTF_8));
        partialLength = 0;
        lock.notifyAll();
    }

    /**
     * Queues bytes for the guest to receive. Returns once all are queued: at once while fewer than
     * {@link #INPUT_LIMIT} wait for the guest, else as the guest reads (so a socket client or a pipe
     * is held back instead of growing a queue); bytes still unqueued when the machine closes are
     * dropped.
     */
    public void send(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        while (len > 0) {
            int n;
            synchronized (inputLock) {
                while (inputCount == INPUT_LIMIT && !closed) {
                    try {
                        inputLock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                if (input == null) {
                    input = new byte[INPUT_LIMIT];
                }
                int tail = (inputHead + inputCount) % INPUT_LIMIT;
                n = Math.min(Math.min(len, INPUT_LIMIT - inputCount), INPUT_LIMIT - tail);
                System.arraycopy(data, off, input, tail, n);
                inputCount += n;
            }
            off += n;
            len -= n;
            feed();
        }
    }

    /** Queues bytes for the guest (see {@link #send(byte[], int, int)}). */
    public void send(byte[] data) {
        send(data, 0, data.length);
    }

    /** Queues a string (UTF-8) for the guest. */
    public void send(String text) {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Moves queued input into the UART while it has room; called again by the UART when it drains.
     * One thread feeds at a time (a second caller asks it to look again instead) and it calls the UART
     * with no lock of ours held.
     */
    private void feed() {
        Uart16550 u;
        synchronized (inputLock) {
            if (feeding) {
                feedAgain = true;
                return;
            }
            u = uart;
            if (u == null) {
                return;
            }
            feeding = true;
        }
        while (true) {
            int len;
            synchronized (inputLock) {
                feedAgain = false;
                len = Math.min(Math.min(inputCount, feedChunk.length), INPUT_LIMIT - inputHead);
                if (len == 0) {
                    feeding = false;
                    return;
                }
                System.arraycopy(input, inputHead, feedChunk, 0, len);
            }
            int n = u.receive(feedChunk, 0, len);
            synchronized (inputLock) {
                inputHead = (inputHead + n) % INPUT_LIMIT;
                inputCount -= n;
                if (n > 0) {
                    inputLock.notifyAll(); // a sender waiting for room
                }
                if (n < len && !feedAgain) {
                    feeding = false; // FIFO full: the UART calls back when the guest has read
                    return;
                }
            }
        }
    }

    /** Input bytes waiting for the guest. */
    public int inputQueued() {
        synchronized (inputLock) {
            return inputCount;
        }
    }

    /**
     * Waits (at most {@code quietMillis} without progress) until the output so far reached the sink.
     *
     * @return whether it all did
     */
    public boolean flush(long quietMillis) {
        SinkWriter w = writer;
        return w == null || w.drain(quietMillis);
    }

    /** Ends the console: pending input is dropped and blocked senders return; the output writer stops. */
    public void close() {
        synchronized (inputLock) {
            closed = true;
            inputCount = 0;
            inputLock.notifyAll();
        }
        SinkWriter w = writer;
        if (w != null) {
            w.close();
        }
    }

    /** Everything transmitted so far (the most recent {@link #TRANSCRIPT_LIMIT} bytes), as text. */
    public String transcript() {
        synchronized (lock) {
            return new String(transcript.toByteArray(), StandardCharsets.UTF_8);
        }
    }

    /** The last {@code n} complete lines (and the partial one, if any). */
    public String tail(int n) {
        synchronized (lock) {
            StringBuilder sb = new StringBuilder();
            for (String line : lines.from(lines.end() - n)) {
                sb.append(line).append('\n');
            }
            if (partialLength > 0) {
                sb.append(new String(partial, 0, partialLength, StandardCharsets.UTF_8));
            }
            return sb.toString();
        }
    }

    /** The complete lines transmitted so far (the most recent {@link #LINES_LIMIT}, within {@link #LINES_CHARS_LIMIT}). */
    public List<String> lines() {
        synchronized (lock) {
            return lines.from(0);
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
                consumedLines = Math.max(consumedLines, lines.first()); // lines dropped meanwhile are passed over
                while (consumedLines < lines.end()) {
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
            return transcript.dropped();
        }
    }

    /** Lines dropped from the front of {@link #lines()} to keep them bounded. */
    public long droppedLines() {
        synchronized (lock) {
            return lines.first();
        }
    }

    /** Lines split at {@link #LINE_LIMIT} because the guest sent no newline. */
    public long splitLines() {
        synchronized (lock) {
            return splitLines;
        }
    }

    /** Bytes of output dropped because the sink did not keep up (they are in the transcript only). */
    public long droppedOutput() {
        SinkWriter w = writer;
        return w == null ? 0 : w.dropped();
    }

    /** One line on output that a slow sink lost, or empty when it lost nothing. */
    public Optional<String> droppedOutputNote() {
        long d = droppedOutput();
        return d == 0 ? Optional.empty() : Optional.of(String.format(
                "%s: %,d bytes of guest output dropped: its reader did not keep up (%d KiB are held for a slow reader)",
                name, d, SinkWriter.CAPACITY >> 10));
    }
}
