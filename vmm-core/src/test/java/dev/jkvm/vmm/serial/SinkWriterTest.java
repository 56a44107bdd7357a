package dev.jkvm.vmm.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The bounded writer as the log and the chardevs use it: whole writes stay whole, and nothing blocks the writer's callers. */
class SinkWriterTest {

    /** Every write the sink gets, as text. */
    private static final class Recording extends OutputStream {
        final List<String> writes = new CopyOnWriteArrayList<>();

        @Override
        public void write(int b) {
            writes.add(String.valueOf((char) b));
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writes.add(new String(b, off, len, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aLineWrittenAtOnceReachesTheSinkInOneWriteEvenAcrossTheRingsEnd() throws Exception {
        Recording sink = new Recording();
        SinkWriter w = SinkWriter.start("test", sink);
        OutputStream out = w.stream();
        byte[] line = "jkvm: gdb: debugger detached\n".getBytes(StandardCharsets.US_ASCII);
        int lines = 2 * SinkWriter.CAPACITY / line.length + 3; // the ring wraps around twice
        for (int i = 0; i < lines; i++) {
            out.write(line, 0, line.length);
            assertTrue(w.drain(10_000));
        }
        w.close();
        assertEquals(lines, sink.writes.size());
        sink.writes.forEach(s -> assertEquals("jkvm: gdb: debugger detached\n", s));
        assertEquals(0, w.dropped());
    }

    /**
     * A guest's bytes come one per exit: the writer gathers them instead of one write (and one wake
     * and flush) per byte. Bytes put apart by about an exit's time reach the sink in far fewer writes,
     * in order, and all of them.
     */
    @Test
    void bytesPutOneByOneReachTheSinkInFewerWritesAndInOrder() throws Exception {
        Recording sink = new Recording();
        SinkWriter w = SinkWriter.start("test", sink);
        StringBuilder sent = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            char c = (char) ('a' + i % 26);
            w.put((byte) c);
            sent.append(c);
            LockSupport.parkNanos(10_000); // about one exit of a slow KVM
        }
        assertTrue(w.drain(10_000));
        w.close();
        assertEquals(sent.toString(), String.join("", sink.writes));
        assertTrue(sink.writes.size() < 1000, sink.writes.size() + " writes for 2000 bytes");
    }

    @Test
    void withoutASinkBytesAreDroppedAndCountedUntilOneIsThere() throws Exception {
        Recording sink = new Recording();
        SinkWriter w = SinkWriter.start("test", null);
        w.stream().write("lost\n".getBytes(StandardCharsets.US_ASCII), 0, 5);
        assertEquals(5, w.dropped());
        w.retarget(sink);
        w.stream().write("kept\n".getBytes(StandardCharsets.US_ASCII), 0, 5);
        assertTrue(w.drain(10_000));
        w.close();
        assertEquals(List.of("kept\n"), sink.writes);
    }

    /**
     * drain's bound in all: a sink that keeps taking bytes, and always gets more before a write
     * ends, would hold drain(quiet) for ever; drain(quiet, max) gives up, and a later drain still
     * waits for the rest once the bytes stop coming.
     */
    @Test
    void aDrainWithABoundInAllGivesUpOnASinkThatNeverRunsDry() throws Exception {
        AtomicBoolean refill = new AtomicBoolean(true);
        SinkWriter[] writer = new SinkWriter[1];
        byte[] line = "more\n".getBytes(StandardCharsets.US_ASCII);
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (refill.get()) {
                    writer[0].put(line, 0, line.length); // queued before this write ends
                }
                LockSupport.parkNanos(1_000_000);
            }
        };
        SinkWriter w = SinkWriter.start("test", sink);
        writer[0] = w;
        w.stream().write(line, 0, line.length);
        assertFalse(w.drain(60_000, 50));
        refill.set(false);
        assertTrue(w.drain(60_000));
        w.close();
        assertEquals(0, w.dropped());
    }
}
