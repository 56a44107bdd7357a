package dev.jkvm.vmm.serial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.Uart16550;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The host side of a serial port against hostile traffic, without KVM: a thread stands in for the
 * vCPU and drives the UART's registers. Output and input at once must not deadlock, a sink that stops
 * reading must not block the "vCPU", and nothing the guest prints or a client sends grows without
 * bound. The time limits only say "does not hang": they are minutes where the work takes milliseconds.
 * Isolated: two tests measure the heap, which other classes running beside them fill (a full
 * ./test read 45 MiB "held" after a 32 MiB flood).
 */
@Isolated
class SerialConsoleTest {

    private static final long HANG = TimeUnit.SECONDS.toMillis(120);

    private final Uart16550 uart;
    private final SerialConsole console;

    SerialConsoleTest() {
        console = new SerialConsole("COM1", null);
        uart = new Uart16550("COM1", console.uartSink(), IrqLine.none());
        uart.write(2, 1, 0x01); // FIFOs on
        console.attach(uart);
    }

    /** Runs {@code body} on a thread named like a vCPU; fails (naming any deadlock) if it does not end in time. */
    private static void onVcpu(Runnable body) throws InterruptedException {
        Thread t = Thread.ofPlatform().name("test CPU 0/KVM").daemon(true).start(body);
        t.join(HANG);
        if (t.isAlive()) {
            long[] dead = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
            throw new AssertionError("the vCPU thread is stuck" + (dead == null ? "" : " in a deadlock of " + dead.length + " threads"));
        }
    }

    @Test
    void outputAndInputAtOnceDoNotDeadlock() throws Exception {
        byte[] page = new byte[4096];
        Arrays.fill(page, (byte) 'y');
        Thread sender = Thread.ofPlatform().name("test stdin").daemon(true).start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                console.send(page); // as `yes |` does on stdin
            }
        });
        onVcpu(() -> {
            for (int round = 0; round < 200; round++) { // the cycle of locks closed within the first rounds
                for (int i = 0; i < 4096; i++) {
                    uart.write(0, 1, 'x'); // rep outsb of 4 KiB
                }
                while ((uart.read(5, 1) & 1) != 0) { // and the guest reads what came in
                    uart.read(0, 1);
                }
            }
        });
        console.close();
        sender.interrupt();
        sender.join(HANG);
        assertTrue(!sender.isAlive(), "the sender ends when the console closes");
    }

    @Test
    void aSinkThatNeverReturnsDoesNotBlockTheVcpu() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        AtomicLong handed = new AtomicLong();
        OutputStream stuck = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                handed.addAndGet(len);
                try {
                    never.await(); // a pipe nobody drains, a terminal after Ctrl-S
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        SerialConsole c = new SerialConsole("COM1", stuck);
        Uart16550 u = new Uart16550("COM1", c.uartSink(), IrqLine.none());
        long total = 4L << 20;
        onVcpu(() -> {
            for (long i = 0; i < total; i++) {
                u.write(0, 1, 'a' + (int) (i % 26));
            }
        });
        long dropped = c.droppedOutput();
        assertEquals(total, dropped + SinkWriter.CAPACITY + handed.get(), "every byte went to the sink, waits for it or was counted");
        assertTrue(c.droppedOutputNote().orElseThrow().contains("bytes of guest output dropped"));
        long start = System.nanoTime();
        assertTrue(!c.flush(100), "a stuck sink cannot be flushed");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60), "flush gives up");
        assertEquals(total, c.transcript().length() + c.droppedBytes(), "the transcript has all of it, within its cap");
        c.close();
        never.countDown();
    }

    @Test
    void linesAndTheTranscriptStayCappedWhateverTheGuestPrints() throws Exception {
        OutputStream tx = console.uartSink();
        byte[] line = "flood 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST\r\n".getBytes(StandardCharsets.US_ASCII);
        long before = retainedHeap();
        long total = 0;
        for (int i = 0; i < 1 << 19; i++) { // 32 MiB of 64-byte lines
            for (byte b : line) {
                tx.write(b);
            }
            total += line.length;
        }
        long grown = retainedHeap() - before;
        System.out.printf("32 MiB of lines: the console holds %d MiB%n", grown >> 20);
        assertTrue(console.lines().size() <= 64 << 10, "lines kept: " + console.lines().size());
        assertEquals(1 << 19, console.droppedLines() + console.lines().size());
        assertTrue(console.transcript().length() <= 4 << 20);
        assertEquals(total, console.transcript().length() + console.droppedBytes());
        assertTrue(grown < 32L << 20, "the console holds " + (grown >> 20) + " MiB after 32 MiB of lines");
        assertTrue(console.tail(2).startsWith("flood 0123"), console.tail(2));
    }

    @Test
    void aLineWithoutANewlineIsSplitNotGrown() throws Exception {
        OutputStream tx = console.uartSink();
        long before = retainedHeap();
        for (int i = 0; i < 32 << 20; i++) { // 32 MiB and never a newline
            tx.write('x');
        }
        long grown = retainedHeap() - before;
        System.out.printf("32 MiB without a newline: the console holds %d MiB%n", grown >> 20);
        assertTrue(console.tail(0).length() <= 64 << 10, "partial line: " + console.tail(0).length());
        assertEquals((32 << 20) / (64 << 10), console.splitLines() + (console.tail(0).length() == 64 << 10 ? 1 : 0));
        assertTrue(grown < 24L << 20, "the console holds " + (grown >> 20) + " MiB after 32 MiB without a newline");
        for (byte b : "\r\nafter\r\n".getBytes(StandardCharsets.US_ASCII)) {
            tx.write(b);
        }
        assertEquals("after", console.awaitLine(Pattern.compile("after"), Duration.ofSeconds(5)).orElse(null));
    }

    @Test
    void aSenderIsHeldBackWhileTheGuestDoesNotRead() throws Exception {
        // A client writing 120 MiB to a guest that never reads: the sender waits, the queue stays at its cap.
        byte[] chunk = new byte[4096];
        AtomicLong queued = new AtomicLong();
        long before = retainedHeap();
        Thread sender = Thread.ofPlatform().name("test socket reader").daemon(true).start(() -> {
            for (int i = 0; i < (120 << 20) / chunk.length; i++) {
                console.send(chunk);
                queued.addAndGet(chunk.length);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HANG);
        while (sender.getState() != Thread.State.WAITING && sender.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(sender.isAlive(), "all 120 MiB were taken although the guest read nothing");
        assertEquals(Thread.State.WAITING, sender.getState());
        assertEquals(SerialConsole.INPUT_LIMIT, console.inputQueued());
        assertTrue(queued.get() <= SerialConsole.INPUT_LIMIT + Uart16550.FIFO_SIZE, "taken: " + queued.get());
        assertTrue(retainedHeap() - before < 16L << 20);
        // the guest reads 100 bytes: exactly those come in, in order, and the sender moves on by as much
        for (int i = 0; i < 100; i++) {
            while ((uart.read(5, 1) & 1) == 0) {
                Thread.onSpinWait();
            }
            uart.read(0, 1);
        }
        console.close(); // the machine closes: the sender returns
        sender.join(HANG);
        assertTrue(!sender.isAlive());
    }

    @Test
    void inputReachesTheGuestInOrderWhateverTheChunks() throws Exception {
        byte[] all = new byte[300_000];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) (i * 7 + i / 251);
        }
        Thread sender = Thread.ofPlatform().daemon(true).start(() -> {
            for (int off = 0; off < all.length; off += 777) {
                console.send(all, off, Math.min(777, all.length - off));
            }
        });
        byte[] got = new byte[all.length];
        onVcpu(() -> {
            for (int i = 0; i < got.length; i++) {
                while ((uart.read(5, 1) & 1) == 0) {
                    Thread.onSpinWait();
                }
                got[i] = (byte) uart.read(0, 1);
            }
        });
        sender.join(HANG);
        assertTrue(Arrays.equals(all, got));
    }

    private static long retainedHeap() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
