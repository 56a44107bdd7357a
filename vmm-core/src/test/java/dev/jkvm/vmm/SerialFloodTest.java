package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.devices.PortIoDevice;
import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile serial traffic against a real guest (the flood ROMs of guest-images): a guest flooding COM1
 * while stdin pours in, readers that stop reading (a pipe, a socket client), a client that writes
 * without end, a device handler that never returns. jkvm must never deadlock, every stop path must
 * work, and its memory must stay bounded. The limits are generous "does not hang" bounds; the
 * figures measured are printed.
 */
@RequiresKvm
class SerialFloodTest {

    /** Inside scripts/in-vm (TCG): a JVM's start alone took over a minute there at a host load of 13. */
    private static final boolean IN_VM = System.getenv("JKVM_IN_VM") != null;
    /** Far beyond what any of these takes when jkvm is right: only a hang gets there. */
    private static final long HANG_SECONDS = IN_VM ? 240 : 60;
    /**
     * How long the flood may take to fill a buffer: about 2 s for 64 KiB on a quiet host (KVM's emulator
     * takes one exit per byte here), but under a load of 20 on two CPUs ten times that.
     */
    private static final long FILL_SECONDS = 300;
    /** Peak RSS a flooded jkvm process may reach (hello alone is about 57 MB here). */
    private static final long RSS_LIMIT_KIB = 200 << 10;

    private static final List<Jkvm> STARTED = java.util.Collections.synchronizedList(new ArrayList<>());

    @org.junit.jupiter.api.AfterEach
    void endProcesses() throws InterruptedException {
        synchronized (STARTED) {
            for (Jkvm j : STARTED) {
                j.close();
            }
            STARTED.clear();
        }
    }

    /** A jkvm process with the launcher's JVM flags, its stderr collected, its peak RSS watched. */
    private static final class Jkvm implements AutoCloseable {
        final Process process;
        final StringBuffer err = new StringBuffer();
        final AtomicLong peakKib = new AtomicLong();

        Jkvm(ProcessBuilder.Redirect stdin, ProcessBuilder.Redirect stdout, String... args) throws Exception {
            List<String> cmd = JkvmJvm.command(List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms16m", "-Xmn8m"), args);
            process = new ProcessBuilder(cmd).redirectInput(stdin).redirectOutput(stdout).start();
            STARTED.add(this);
            Thread.ofPlatform().daemon(true).start(() -> {
                try (InputStream in = process.getErrorStream()) {
                    byte[] b = new byte[4096];
                    int n;
                    while ((n = in.read(b)) > 0) {
                        err.append(new String(b, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // ended
                }
            });
            Thread.ofPlatform().daemon(true).start(() -> {
                Path status = Path.of("/proc", Long.toString(process.pid()), "status");
                while (process.isAlive()) {
                    try {
                        for (String line : Files.readAllLines(status)) {
                            if (line.startsWith("VmHWM:")) {
                                peakKib.set(Long.parseLong(line.replaceAll("\\D", "")));
                            }
                        }
                        Thread.sleep(50);
                    } catch (IOException | InterruptedException | RuntimeException e) {
                        return;
                    }
                }
            });
        }

        /** Waits for the end (killing it after the hang bound); the exit status. */
        int await() throws InterruptedException {
            if (!process.waitFor(HANG_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
                throw new AssertionError("jkvm hung; its stderr:\n" + err);
            }
            return process.exitValue();
        }

        /** A test that failed leaves no flooding process behind. */
        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor();
            }
        }

        void awaitErr(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
            while (!err.toString().contains(text)) {
                assertTrue(System.nanoTime() < deadline && process.isAlive(), "no '" + text + "' on stderr:\n" + err);
                Thread.sleep(20);
            }
        }
    }

    private static void drain(InputStream in) {
        Thread.ofPlatform().daemon(true).start(() -> {
            try (in) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                // ended
            }
        });
    }

    @Test
    void stdinPouringInWhileTheGuestFloodsCom1NeitherDeadlocksNorBlocksTheTimeout() throws Exception {
        // `yes | jkvm -bios flood-lines -timeout 4`: before, the stdin and CPU 0/KVM threads deadlocked at once
        Jkvm j = new Jkvm(ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.PIPE, "-bios", "flood-lines", "-timeout", "4");
        drain(j.process.getInputStream());
        Thread yes = Thread.ofPlatform().daemon(true).start(() -> {
            byte[] y = "y\n".repeat(2048).getBytes(StandardCharsets.US_ASCII);
            try (OutputStream out = j.process.getOutputStream()) {
                while (true) {
                    out.write(y);
                }
            } catch (IOException e) {
                // jkvm ended
            }
        });
        assertEquals(RunResult.TIMEOUT_STATUS, j.await(), j.err.toString());
        yes.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
        System.out.printf("flood + stdin: peak RSS %d MB%n", j.peakKib.get() >> 10);
        assertTrue(j.peakKib.get() < RSS_LIMIT_KIB, j.peakKib.get() + " KiB");
    }

    @Test
    void aStdoutNobodyReadsStopsNeitherTheTimeoutNorSigterm() throws Exception {
        // `jkvm -bios flood-lines -timeout 6 | sleep 30`: before, the vCPU blocked in write() once the pipe
        // was full and the run never ended (the pipe is 8 KiB here, not Linux's 64, to fill it sooner)
        Jkvm timed = withStuckStdout("-bios", "flood-lines", "-timeout", "6");
        assertEquals(RunResult.TIMEOUT_STATUS, timed.await(), timed.err.toString());
        System.out.printf("stuck stdout, -timeout 6: peak RSS %d MB%n", timed.peakKib.get() >> 10);
        assertTrue(timed.peakKib.get() < RSS_LIMIT_KIB, timed.peakKib.get() + " KiB");

        Jkvm signalled = withStuckStdout("-bios", "flood-lines");
        awaitFullPipe(signalled);
        long t0 = System.nanoTime();
        signalled.process.toHandle().destroy(); // SIGTERM
        assertEquals(0, signalled.await(), signalled.err.toString());
        System.out.printf("stuck stdout: SIGTERM to exit %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        assertTrue(signalled.err.toString().contains("terminating on signal 15"), signalled.err.toString());
    }

    /** jkvm with a stdout pipe nobody reads, made {@link ChildPipe#SIZE} bytes so the flood fills it soon. */
    private static Jkvm withStuckStdout(String... args) throws Exception {
        Jkvm j = new Jkvm(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")), ProcessBuilder.Redirect.PIPE, args);
        ChildPipe.shrink(j.process, 1);
        return j;
    }

    /** Waits until jkvm's stdout pipe, which nobody reads, is full: where the vCPU used to block. */
    private static void awaitFullPipe(Jkvm j) throws Exception {
        ChildPipe.awaitFull(j.process.getInputStream(), j.process, FILL_SECONDS, j.err.toString());
    }

    @Test
    void theMonitorsQuitWorksWhileStdoutIsStuck(@TempDir Path dir) throws Exception {
        Path mon = dir.resolve("m.sock");
        Jkvm j = withStuckStdout("-bios", "flood-lines", "-monitor", "unix:" + mon + ",server,nowait");
        awaitFullPipe(j);
        long t0;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(mon));
            t0 = System.nanoTime();
            ch.write(ByteBuffer.wrap("quit\n".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(0, j.await(), j.err.toString());
        }
        System.out.printf("stuck stdout: monitor quit to exit %.1f ms%n", (System.nanoTime() - t0) / 1e6);
    }

    @Test
    void closeReturnsWhateverTheSinkDoes() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        OutputStream stuck = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                entered.countDown();
                try {
                    never.await(); // a caller's stream that never returns
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Machine m = Machine.create(MachineConfig.builder().firmware(BiosRom.bundled("flood-lines"))
                .serial(SerialBackend.stream(stuck)).build());
        try {
            m.start();
            // The writer is stuck in the sink and the guest goes on printing 64 more lines (4 KiB)
            // meanwhile: the vCPU never waits for the sink. (Waiting for the output buffer to fill,
            // 64 KiB, took two minutes inside scripts/in-vm; SerialConsoleTest drops when it is full.)
            assertTrue(entered.await(HANG_SECONDS, TimeUnit.SECONDS), "the output never reached the sink");
            int before = m.serial().lines().size();
            awaitLines(m, before + 64);
            long t0 = System.nanoTime();
            Thread closer = Thread.ofPlatform().start(m::close);
            closer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertTrue(!closer.isAlive(), "close() hung on the sink");
            System.out.printf("stuck stream sink: close() %.1f ms%n", (System.nanoTime() - t0) / 1e6);
            assertEquals(RunResult.Reason.CLOSED, m.result().orElseThrow().reason());
        } finally {
            never.countDown();
            m.close();
        }
    }

    private static void awaitLines(Machine m, int lines) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FILL_SECONDS);
        while (m.serial().lines().size() < lines) {
            assertTrue(System.nanoTime() < deadline, "the guest printed no more once the sink was stuck: " + m.serial().tail(3));
            Thread.sleep(20);
        }
    }

    private static void awaitDropped(Machine m) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FILL_SECONDS);
        while (m.serial().droppedOutput() == 0) {
            assertTrue(System.nanoTime() < deadline, "the guest's output never filled the buffer: " + m.serial().tail(3));
            Thread.sleep(20);
        }
    }

    @Test
    void aSocketClientThatNeverReadsStopsNothing(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("com1.sock");
        try (Machine m = DevicesGuestTest.machine("-bios", "flood-lines", "-serial", "unix:" + sock + ",server,nowait");
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sock));
            m.start();
            awaitDropped(m); // the socket's buffers and ours are full: the client has not read a byte
            long t0 = System.nanoTime();
            m.stop(RunResult.of(RunResult.Reason.QUIT, 0, "quit"));
            RunResult r = m.run(Duration.ofSeconds(HANG_SECONDS));
            System.out.printf("unread socket client: quit to run ended %.1f ms%n", (System.nanoTime() - t0) / 1e6);
            assertEquals(RunResult.Reason.QUIT, r.reason());
        }
    }

    @Test
    void aClientWritingWithoutEndIsHeldBack(@TempDir Path dir) throws Exception {
        // 120 MiB to a guest that never reads COM1: before, every chunk was queued on the heap
        Path sock = dir.resolve("com1.sock");
        AtomicLong sent = new AtomicLong();
        try (Machine m = DevicesGuestTest.machine("-bios", "spin", "-serial", "unix:" + sock + ",server,nowait")) {
            m.start();
            assertTrue(m.serial().awaitLine(Pattern.compile("spinning"), Duration.ofSeconds(HANG_SECONDS)).isPresent());
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(sock));
            Thread writer = Thread.ofPlatform().daemon(true).start(() -> {
                ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
                try (ch) {
                    for (int i = 0; i < (120 << 20) / chunk.capacity(); i++) {
                        ch.write(chunk.clear());
                        sent.addAndGet(chunk.capacity());
                    }
                } catch (IOException e) {
                    // jkvm closed the connection
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
            while (m.serial().inputQueued() < dev.jkvm.vmm.serial.SerialConsole.INPUT_LIMIT && writer.isAlive()) {
                assertTrue(System.nanoTime() < deadline, "queued " + m.serial().inputQueued());
                Thread.sleep(10);
            }
            Thread.sleep(3000); // before, all 120 MiB went onto the heap meanwhile
            long taken = sent.get();
            System.out.printf("client writing 120 MiB, guest not reading: %d KiB taken (jkvm queues %d KiB)%n",
                    taken >> 10, dev.jkvm.vmm.serial.SerialConsole.INPUT_LIMIT >> 10);
            assertTrue(writer.isAlive() && taken < 8 << 20, "taken " + taken);
            assertEquals(dev.jkvm.vmm.serial.SerialConsole.INPUT_LIMIT, m.serial().inputQueued());
            m.close();
            writer.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertTrue(!writer.isAlive(), "the client is disconnected when the machine closes");
        }
    }

    @Test
    void serverWithoutNowaitWaitsForAClientAsQemu(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("com1.sock");
        Jkvm j = new Jkvm(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")), ProcessBuilder.Redirect.PIPE,
                "-bios", "hello", "-serial", "unix:" + sock + ",server");
        j.awaitErr("info: QEMU waiting for connection on: disconnected:unix:" + sock + ",server=on");
        Thread.sleep(1000);
        assertTrue(j.process.isAlive(), "the guest ran without waiting for a client:\n" + j.err);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sock));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(256);
            while (!got.toString(StandardCharsets.US_ASCII).contains("\n") && ch.read(b.clear()) > 0) {
                got.write(b.array(), 0, b.position());
            }
            assertEquals("Hello from the guest\r\n", got.toString(StandardCharsets.US_ASCII));
        }
        assertEquals(0, j.await(), j.err.toString());
    }

    @Test
    void aFileAtTheSocketPathIsRefusedAndKept(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("notes.txt");
        Files.writeString(file, "precious");
        for (String[] args : List.of(new String[] {"-bios", "hello", "-serial", "unix:" + file + ",server,nowait"},
                new String[] {"-bios", "hello", "-serial", "none", "-monitor", "unix:" + file + ",server,nowait"})) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, status, e);
            String last = e.lines().reduce((a, b) -> b).orElse("");
            assertTrue(last.startsWith("jkvm: " + args[args.length - 2]), last);
            assertTrue(last.endsWith(": cannot listen: " + file + " exists and is not a socket"), last);
            assertEquals("precious", Files.readString(file));
        }
    }

    @Test
    void aDeviceThatNeverReturnsCannotHangTheRunOrClose() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Machine m = DevicesGuestTest.machine("-bios", "port-exits");
        List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        m.onLog(log::add);
        m.ports().register(0x99, 1, new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                return 0;
            }

            @Override
            public void write(int offset, int size, int value) {
                try {
                    never.await(); // the vCPU is out of KVM_RUN, where no kick reaches it
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        try {
            long t0 = System.nanoTime();
            java.util.concurrent.atomic.AtomicReference<RunResult> result = new java.util.concurrent.atomic.AtomicReference<>();
            Thread runner = Thread.ofPlatform().start(() -> {
                result.set(m.run(Duration.ofSeconds(1)));
                m.close();
            });
            runner.join(TimeUnit.SECONDS.toMillis(HANG_SECONDS));
            assertTrue(!runner.isAlive(), "the run or close() waited for the stuck vCPU for ever");
            assertEquals(RunResult.Reason.TIMEOUT, result.get().reason());
            System.out.printf("stuck device handler: run(1 s) + close() %.1f ms%n", (System.nanoTime() - t0) / 1e6);
            assertTrue(log.stream().anyMatch(l -> l.contains("CPU 0/KVM") && l.contains("did not stop")), log.toString());
        } finally {
            never.countDown();
        }
    }
}
