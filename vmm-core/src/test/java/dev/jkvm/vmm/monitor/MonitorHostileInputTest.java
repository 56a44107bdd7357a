package dev.jkvm.vmm.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The monitor against input no person types: Errors in a command, endless lines (no KVM needed). */
class MonitorHostileInputTest {

    private static final Duration NO_HANG = Duration.ofSeconds(60);

    @Test
    void anErrorInACommandIsOneErrorLineAndTheMonitorGoesOn() {
        Monitor m = new Monitor(null);
        m.addCommand("overflow", "", "", a -> {
            throw new StackOverflowError();
        });
        m.addCommand("oom", "", "", a -> {
            throw new OutOfMemoryError("Java heap space");
        });
        assertEquals("Error: internal error in 'overflow': java.lang.StackOverflowError\n", m.execute("overflow"));
        assertEquals("Error: internal error in 'oom': java.lang.OutOfMemoryError: Java heap space\n", m.execute("oom"));
        assertTrue(m.execute("help").contains("quit"));
    }

    /** A stream of {@code n} bytes of {@code b}, produced as read (the heap never holds it). */
    private static InputStream endless(long n, byte b) {
        return new InputStream() {
            long left = n;

            @Override
            public int read() {
                return left-- > 0 ? b : -1;
            }

            @Override
            public int read(byte[] buf, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int k = (int) Math.min(len, left);
                java.util.Arrays.fill(buf, off, off + k, b);
                left -= k;
                return k;
            }
        };
    }

    @Test
    void aLineOfAHundredMegabytesIsRefusedInOneLineAndTheNextCommandRuns() throws Exception {
        Monitor m = new Monitor(null);
        m.addCommand("ping", "", "", a -> "pong\n");
        InputStream in = new SequenceInputStream(endless(100L << 20, (byte) 'a'),
                new ByteArrayInputStream("\nping\n".getBytes(StandardCharsets.UTF_8)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long heapBefore = usedHeap();
        java.io.Closeable session = MonitorServer.serve(m, in, out);
        String text = assertTimeoutPreemptively(NO_HANG, () -> {
            while (!out.toString(StandardCharsets.UTF_8).contains("pong")) {
                Thread.sleep(20);
            }
            return out.toString(StandardCharsets.UTF_8);
        });
        session.close();
        assertTrue(text.contains("Error: command line too long (more than 4096 characters)\n"), text);
        assertTrue(text.endsWith("pong\n(qemu) ") || text.contains("pong\n"), text);
        // a 100 MiB line held as a String would be 100 MiB or more of heap at once
        assertTrue(usedHeap() - heapBefore < 64L << 20, "heap grew by " + ((usedHeap() - heapBefore) >> 20) + " MiB");
    }

    @Test
    void boundedLinesKeepTheirContentAndCarriageReturns() throws Exception {
        BoundedLineReader r = new BoundedLineReader(new java.io.StringReader("info cpus\r\nx\n\n" + "b".repeat(4096) + "\nlast"));
        assertEquals("info cpus", r.readLine());
        assertEquals("x", r.readLine());
        assertEquals("", r.readLine());
        assertEquals("b".repeat(4096), r.readLine());
        assertEquals("last", r.readLine());
        assertEquals(null, r.readLine());
        BoundedLineReader over = new BoundedLineReader(new java.io.StringReader("c".repeat(4097) + "\nok\n"));
        assertTrue(over.readLine() == BoundedLineReader.TOO_LONG);
        assertEquals("ok", over.readLine());
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        return rt.totalMemory() - rt.freeMemory();
    }
}
