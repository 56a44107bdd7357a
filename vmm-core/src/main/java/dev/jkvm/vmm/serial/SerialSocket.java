package dev.jkvm.vmm.serial;

import dev.jkvm.vmm.host.UnixSocketFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * {@code -serial unix:PATH,server[,nowait]}: a serial port on a Unix socket. jkvm listens; one client
 * at a time gets the output and its bytes go to the guest's receive FIFO. With {@code nowait} the
 * guest runs whether or not anyone is connected (its output is then only in the transcript); without
 * it, {@link #listen} returns only once the first client has connected, as QEMU waits.
 *
 * <p>Input is read only as fast as the guest takes it: the reader hands each chunk to
 * {@link SerialConsole#send}, which holds it back while the console's bounded input queue is full, so
 * a client that writes without end fills its own socket buffer, not jkvm's heap. Output goes through
 * the console's {@link SinkWriter}: a client that never reads costs dropped output, never a blocked vCPU.
 */
public final class SerialSocket implements AutoCloseable {

    private static final int READ_CHUNK = 4096;

    private final UnixSocketFile file;
    private final SerialConsole console;
    private volatile SocketChannel client;
    private volatile boolean closed;

    private SerialSocket(UnixSocketFile file, SerialConsole console) {
        this.file = file;
        this.console = console;
    }

    /**
     * Listens at {@code path} (replacing a stale socket, refusing any other file) and feeds clients'
     * input to {@code console}, whose output it then carries.
     *
     * @param wait wait here for the first client, as QEMU's {@code server} without {@code nowait};
     *             {@code waiting} is told the moment the wait begins (QEMU's "waiting for connection" line)
     */
    public static SerialSocket listen(Path path, SerialConsole console, boolean wait, Runnable waiting) throws IOException {
        SerialSocket s = new SerialSocket(UnixSocketFile.bind(path), console);
        console.forwardTo(s.sink());
        SocketChannel first = null;
        if (wait) {
            waiting.run();
            try {
                first = s.file.channel().accept();
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }
        SocketChannel firstClient = first;
        Thread.ofPlatform().name("jkvm serial " + path.getFileName()).daemon(true).start(() -> s.serve(firstClient));
        return s;
    }

    private void serve(SocketChannel first) {
        SocketChannel next = first;
        byte[] buf = new byte[READ_CHUNK];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        while (!closed) {
            try {
                if (next == null) {
                    next = file.channel().accept();
                }
                try (SocketChannel ch = next) {
                    client = ch;
                    if (closed) {
                        return;
                    }
                    int n;
                    while ((n = ch.read(bb.clear())) > 0) {
                        console.send(buf, 0, n); // holds us back while the guest has not read
                    }
                } finally {
                    client = null;
                    next = null;
                }
            } catch (IOException e) {
                // the client left, or the socket closed: wait for the next one
            }
        }
    }

    /** The stream the console's writer thread writes into: the connected client, if any. */
    private OutputStream sink() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                SocketChannel ch = client;
                if (ch == null) {
                    return; // nobody connected: the output is in the transcript
                }
                ByteBuffer bb = ByteBuffer.wrap(b, off, len);
                while (bb.hasRemaining()) {
                    ch.write(bb); // blocks on a client that does not read: only the writer thread waits
                }
            }
        };
    }

    /** Stops listening, disconnects the client (a writer blocked on it returns) and removes the socket file. */
    @Override
    public void close() throws IOException {
        closed = true;
        SocketChannel ch = client;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // already gone
            }
        }
        file.close();
    }
}
