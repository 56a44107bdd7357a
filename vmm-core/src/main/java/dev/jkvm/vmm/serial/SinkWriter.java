package dev.jkvm.vmm.serial;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/**
 * Carries output (a serial port's, a chardev's, the log's) to a sink that may stop reading (a pipe
 * nobody drains, a terminal paused with Ctrl-S, a socket client that never reads, or none yet:
 * {@link #retarget}) without ever blocking the vCPU: the vCPU puts
 * each byte into a bounded ring ({@link #CAPACITY}) and returns at once; a daemon thread of its own
 * writes the ring out. While the ring is full, new bytes are dropped and counted ({@link #dropped()}):
 * the guest keeps running and the stop paths keep working, whatever the sink does.
 *
 * <p>Locking: one private monitor, a leaf (nothing is called while it is held, the sink is written
 * outside it), so {@link #put} may be called with a UART's lock held. Nothing on the put path allocates.
 *
 * <pre>{@code
 * SinkWriter w = SinkWriter.start("COM1", System.out);
 * w.put((byte) 'A');     // from the vCPU: never blocks
 * w.drain(100);          // at the end of the run: flushed, or given up after 100 ms without progress
 * w.close();
 * }</pre>
 */
public final class SinkWriter implements AutoCloseable {

    /** Bytes held for a sink that does not keep up; beyond that output is dropped until it reads. */
    public static final int CAPACITY = 64 << 10;
    /** The most one write hands the sink. */
    private static final int CHUNK = 8 << 10;
    /**
     * How long the writer, woken by a first byte, waits for more before it writes: a guest puts one
     * byte per exit, and waking, writing and flushing per byte cost two thread switches and three
     * system calls each (~450 us of the ~500 us a flooding guest's byte took in the nested VM).
     */
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final Object lock = new Object();
    private final byte[] ring = new byte[CAPACITY];
    private final Thread thread;
    // guarded by lock
    /** Where bytes go; null while nobody is connected (bytes are dropped). */
    private OutputStream sink;
    private int head;
    private int count;
    private long dropped;
    private long written;
    private long writeErrors;
    private boolean writing;
    /** When the last write to the sink began or ended: a sink quiet for long is not waited for. */
    private long lastActivity = System.nanoTime();
    private boolean closed;

    private SinkWriter(String name, OutputStream sink) {
        this.sink = sink;
        this.thread = Thread.ofPlatform().name("jkvm out " + name).daemon(true).unstarted(this::run);
    }

    /** Starts the writer thread for {@code sink} (which it writes and flushes, never closes). */
    public static SinkWriter start(String name, OutputStream sink) {
        SinkWriter w = new SinkWriter(name, sink);
        w.thread.start();
        return w;
    }

    /** Queues one byte for the sink, or drops it when {@link #CAPACITY} bytes wait already or there is no sink. Never blocks. */
    public void put(byte b) {
        synchronized (lock) {
            if (count == CAPACITY || closed || sink == null) {
                dropped++;
                return;
            }
            ring[(head + count) % CAPACITY] = b;
            if (count++ == 0) {
                lock.notifyAll(); // the writer waits only on an empty ring
            }
        }
    }

    /**
     * Where bytes go from now on (a socket's next client); {@code null} drops them, and what is
     * queued for the old sink.
     */
    public void retarget(OutputStream newSink) {
        synchronized (lock) {
            sink = newSink;
            if (newSink == null) {
                head = (head + count) % CAPACITY;
                count = 0;
            }
            lock.notifyAll();
        }
    }

    /**
     * Queues {@code len} bytes at once (what does not fit is dropped): the writer never sees part
     * of them, so a log line reaches a terminal shared with the guest's output whole.
     */
    public void put(byte[] b, int off, int len) {
        synchronized (lock) {
            int n = closed || sink == null ? 0 : Math.min(len, CAPACITY - count);
            for (int i = 0; i < n; i++) {
                ring[(head + count + i) % CAPACITY] = b[off + i];
            }
            dropped += len - n;
            if (count == 0 && n > 0) {
                lock.notifyAll(); // the writer waits only on an empty ring
            }
            count += n;
        }
    }

    private void run() {
        byte[] chunk = new byte[CHUNK];
        while (true) {
            int n;
            OutputStream out;
            synchronized (lock) {
                writing = false;
                lock.notifyAll(); // drain() waiters look again
                while (count == 0 && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (count == 0) {
                    return; // closed and nothing left
                }
                if (count < CHUNK && !closed && sink != null) {
                    try {
                        // once: put() does not notify a non-empty ring; close, retarget and drain do
                        TimeUnit.NANOSECONDS.timedWait(lock, LINGER_NANOS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (count == 0) {
                        continue; // a retarget to nothing dropped it meanwhile
                    }
                }
                out = sink;
                n = Math.min(count, CHUNK);
                int first = Math.min(n, CAPACITY - head); // up to the ring's end, then from its start
                System.arraycopy(ring, head, chunk, 0, first);
                System.arraycopy(ring, 0, chunk, first, n - first);
                head = (head + n) % CAPACITY;
                count -= n;
                writing = true;
                lastActivity = System.nanoTime();
            }
            boolean ok;
            try {
                out.write(chunk, 0, n);
                out.flush();
                ok = true;
            } catch (IOException e) {
                ok = false; // a closed pipe or a client gone: these bytes are in the transcript only
            }
            synchronized (lock) {
                if (ok) {
                    written += n;
                } else {
                    writeErrors += n;
                    if (sink == out) { // gone for good: what follows is dropped until a retarget
                        sink = null;
                        head = (head + count) % CAPACITY;
                        count = 0;
                    }
                }
                lastActivity = System.nanoTime();
            }
        }
    }

    /**
     * Waits until everything queued so far has been handed to the sink, for as long as the sink makes
     * progress: gives up once {@code quietMillis} passed without a write beginning or ending (a sink
     * that stopped reading; one stuck for longer already is not waited for at all), so it is bounded
     * whatever the sink does.
     *
     * @return whether everything was written
     */
    public boolean drain(long quietMillis) {
        return drain(quietMillis, Long.MAX_VALUE);
    }

    /**
     * As {@link #drain(long)}, but never longer than {@code maxMillis} in all, whatever the sink
     * does: for a thread that must go on soon (one that logs a line and then lets the guest run).
     */
    public boolean drain(long quietMillis, long maxMillis) {
        long start = System.nanoTime();
        long most = TimeUnit.MILLISECONDS.toNanos(maxMillis); // saturates: Long.MAX_VALUE is no bound
        synchronized (lock) {
            lock.notifyAll(); // a writer gathering bytes (LINGER_NANOS) writes them now
            if (!writing) {
                lastActivity = System.nanoTime(); // an idle writer about to pick up the queue
            }
            while ((count > 0 && sink != null) || writing) {
                if (!thread.isAlive()) {
                    return false;
                }
                long now = System.nanoTime();
                long left = Math.min(TimeUnit.MILLISECONDS.toNanos(quietMillis) - (now - lastActivity), most - (now - start));
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, TimeUnit.MILLISECONDS.toNanos(10)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    /** This writer as a stream: a write queues its bytes (or drops them) and returns at once; flush and close do nothing. */
    public OutputStream stream() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                put((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                put(b, off, len);
            }
        };
    }

    /** Bytes dropped because the ring was full (the sink did not keep up). */
    public long dropped() {
        synchronized (lock) {
            return dropped;
        }
    }

    /** Bytes the sink refused with an error (a closed pipe, a client that left). */
    public long writeErrors() {
        synchronized (lock) {
            return writeErrors;
        }
    }

    /** Bytes waiting for the sink now. */
    public int queued() {
        synchronized (lock) {
            return count;
        }
    }

    /**
     * Stops taking bytes and ends the writer once the ring is empty; a writer blocked in the sink
     * ends when the sink's write returns (closing a socket makes it return), else with the process.
     * Does not wait.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
    }

    /** Whether the writer thread has ended. */
    public boolean finished() {
        return !thread.isAlive();
    }

    /** Waits up to {@code millis} for the writer thread to end. */
    public boolean awaitEnd(long millis) throws InterruptedException {
        thread.join(millis);
        return !thread.isAlive();
    }
}
