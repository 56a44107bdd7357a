package dev.jkvm.devices;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Objects;

/**
 * Feeds a host byte stream (the terminal's stdin, a socket) into a {@link Uart16550}'s receiver on a
 * daemon thread of its own, never losing a byte.
 *
 * <p>Why a thread that blocks: a host read may return far more than the UART's 16-byte FIFO, and a
 * guest may read slowly or not at all for a while (booting, interrupts masked). The pump reads a
 * chunk, then {@link Uart16550#receiveFully} hands it over as the guest drains the FIFO, blocking in
 * between; while it blocks it stops reading the stream, so the backpressure reaches the host side
 * (the terminal's own buffer) instead of a queue here growing without bound. Nothing polls.
 *
 * <p>The pump ends at end of stream, on a read error, or on {@link #close()}. A thread blocked in a
 * native read (stdin) cannot be woken by {@code close()}; it is a daemon and ends with the process, and
 * whatever it reads after {@code close()} is discarded.
 *
 * <pre>{@code
 * SerialInputPump pump = SerialInputPump.start("COM1", System.in, com1);
 * ...
 * pump.close();
 * }</pre>
 */
public final class SerialInputPump implements AutoCloseable {

    /** Bytes read from the stream at a time. */
    static final int CHUNK = 256;

    private final InputStream in;
    private final Uart16550 uart;
    private final Thread thread;
    private volatile boolean closed;
    private volatile IOException failure;

    private SerialInputPump(String name, InputStream in, Uart16550 uart) {
        this.in = Objects.requireNonNull(in, "in");
        this.uart = Objects.requireNonNull(uart, "uart");
        this.thread = new Thread(this::run, "jkvm-serial-input-" + name);
        this.thread.setDaemon(true);
    }

    /**
     * Starts a pump from {@code in} to {@code uart}.
     *
     * @param name names the thread ({@code jkvm-serial-input-<name>})
     */
    public static SerialInputPump start(String name, InputStream in, Uart16550 uart) {
        SerialInputPump pump = new SerialInputPump(name, in, uart);
        pump.thread.start();
        return pump;
    }

    private void run() {
        byte[] buf = new byte[CHUNK];
        try {
            while (!closed) {
                int n = in.read(buf);
                if (n < 0 || closed) {
                    return;
                }
                uart.receiveFully(buf, 0, n);
            }
        } catch (InterruptedException | InterruptedIOException e) {
            // close(): stop quietly.
        } catch (IOException e) {
            failure = e;
        }
    }

    /** The read error that ended the pump, or {@code null}. */
    public IOException failure() {
        return failure;
    }

    /** Whether the pump thread has ended (end of stream, error, or close). */
    public boolean finished() {
        return !thread.isAlive();
    }

    /**
     * Waits for the pump to end by itself (end of stream), for tests and orderly shutdown.
     *
     * @return whether it ended within {@code millis}
     */
    public boolean awaitEnd(long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }

    /** Stops the pump: a wait for the guest ends at once; a blocked stream read when it returns. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
