package dev.jkvm.vmm.chardev;

import java.io.IOException;
import java.io.OutputStream;

/**
 * What a frontend writes, handed to a slow sink without ever blocking the writer: bytes go into a
 * fixed ring ({@link #CAPACITY}) that one daemon thread drains into the current target; when the
 * ring is full, or no target is connected, bytes are dropped and counted. So a client that never
 * reads, or a blocked pipe, costs at most the ring, and a vCPU writing to isa-debugcon never waits.
 */
final class BoundedWriter {

    /** Bytes held for a slow target before new ones are dropped. */
    static final int CAPACITY = 64 * 1024;

    private final byte[] ring = new byte[CAPACITY];
    private long head; // next byte to drain
    private long tail; // next byte to fill
    private long dropped;
    private OutputStream target;
    private boolean closed;
    private final Thread drainer;

    BoundedWriter(String name, OutputStream initialTarget) {
        this.target = initialTarget;
        drainer = Thread.ofPlatform().name(name).daemon(true).unstarted(this::drain);
        drainer.start();
    }

    /** Queues one byte; drops it when the ring is full or nobody is connected. */
    synchronized void write(int b) {
        if (closed || target == null || tail - head == CAPACITY) {
            dropped++;
            return;
        }
        ring[(int) (tail++ % CAPACITY)] = (byte) b;
        notifyAll();
    }

    /** Queues bytes (each as {@link #write(int)}). */
    synchronized void write(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            write(b[off + i]);
        }
    }

    /** Where the bytes go from now on; {@code null} drops them (and what is queued for the old target). */
    synchronized void retarget(OutputStream newTarget) {
        target = newTarget;
        if (newTarget == null) {
            head = tail;
        }
        notifyAll();
    }

    /** Bytes dropped so far. */
    synchronized long dropped() {
        return dropped;
    }

    /** Waits up to {@code millis} for the queued bytes to reach the target, then stops the drainer. */
    void close(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        synchronized (this) {
            while (head != tail && target != null && System.nanoTime() < end) {
                try {
                    wait(Math.max(1, (end - System.nanoTime()) / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            closed = true;
            notifyAll();
        }
        drainer.interrupt();
    }

    private void drain() {
        byte[] chunk = new byte[4096];
        while (true) {
            OutputStream out;
            int n;
            synchronized (this) {
                while (!closed && (head == tail || target == null)) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        if (closed) {
                            return;
                        }
                    }
                }
                if (closed) {
                    return;
                }
                out = target;
                n = (int) Math.min(chunk.length, tail - head);
                for (int i = 0; i < n; i++) {
                    chunk[i] = ring[(int) ((head + i) % CAPACITY)];
                }
            }
            try {
                out.write(chunk, 0, n); // outside the lock: a slow target holds up only this thread
                out.flush();
            } catch (IOException e) {
                synchronized (this) {
                    if (target == out) {
                        target = null; // gone: what follows is dropped until the next client
                        head = tail;
                    }
                }
                continue;
            }
            synchronized (this) {
                if (target == out) {
                    head += n;
                }
                notifyAll();
            }
        }
    }
}
