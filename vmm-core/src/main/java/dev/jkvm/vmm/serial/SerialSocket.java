package dev.jkvm.vmm.serial;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code -serial unix:PATH,server,nowait}: a serial port on a Unix socket. jkvm listens; the guest
 * runs whether or not anyone is connected (its output is then only in the transcript); one client
 * at a time gets the output and its bytes go to the guest's receive FIFO.
 */
public final class SerialSocket implements AutoCloseable {

    private final Path path;
    private final ServerSocketChannel server;
    private volatile OutputStream client = OutputStream.nullOutputStream();

    private SerialSocket(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
    }

    /** Listens at {@code path} (replacing a stale socket file) and feeds clients' input to {@code console}. */
    public static SerialSocket listen(Path path, SerialConsole console) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        SerialSocket s = new SerialSocket(path, server);
        Thread.ofPlatform().name("jkvm serial " + path.getFileName()).daemon(true).start(() -> s.accept(console));
        return s;
    }

    private void accept(SerialConsole console) {
        while (server.isOpen()) {
            try (SocketChannel ch = server.accept()) {
                client = Channels.newOutputStream(ch);
                InputStream in = Channels.newInputStream(ch);
                byte[] buf = new byte[512];
                int n;
                while ((n = in.read(buf)) > 0) {
                    console.send(java.util.Arrays.copyOf(buf, n));
                }
            } catch (IOException e) {
                // the client left, or the socket closed: wait for the next one
            } finally {
                client = OutputStream.nullOutputStream();
            }
        }
    }

    /** The stream the UART transmits into: the connected client, if any. */
    public OutputStream sink() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                try {
                    client.write(b);
                } catch (IOException e) {
                    client = OutputStream.nullOutputStream(); // gone: the output is in the transcript anyway
                }
            }
        };
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(path);
    }
}
