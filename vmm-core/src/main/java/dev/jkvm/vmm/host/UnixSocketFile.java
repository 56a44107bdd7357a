package dev.jkvm.vmm.host;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The file of a Unix socket jkvm listens on ({@code -serial unix:}, {@code -monitor unix:},
 * {@code -gdb unix:}): one piece of code decides what may be removed at that path. A socket left by
 * an earlier run is replaced, as QEMU does; a regular file, a directory or a socket another process
 * still listens on is refused (an {@link IOException} saying which), never deleted. On close the file
 * is removed only while it is still the one bound here (same inode), so a file someone put in its
 * place afterwards survives.
 *
 * <pre>{@code
 * UnixSocketFile f = UnixSocketFile.bind(Path.of("/tmp/jm.sock"));
 * SocketChannel c = f.channel().accept();
 * ...
 * f.close();   // stops listening, removes /tmp/jm.sock if it is still ours
 * }</pre>
 */
public final class UnixSocketFile implements AutoCloseable {

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Path path;
    private final ServerSocketChannel channel;
    private final Object fileKey;

    private UnixSocketFile(Path path, ServerSocketChannel channel, Object fileKey) {
        this.path = path;
        this.channel = channel;
        this.fileKey = fileKey;
    }

    /** Removes a stale socket at {@code path} (nothing else), then binds and listens there. */
    public static UnixSocketFile bind(Path path) throws IOException {
        removeStale(path);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(path));
            return new UnixSocketFile(path, channel, fileKey(path));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Deletes {@code path} when it is a socket nobody listens on; nothing when there is no file.
     *
     * @throws IOException "PATH exists and is not a socket" or "... another process listens on it"
     */
    public static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if (!(mode instanceof Integer m) || (m & S_IFMT) != S_IFSOCK) {
            throw new IOException(path + " exists and is not a socket");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException(path + " is a socket another process listens on");
        } catch (ConnectException | NoSuchFileException e) {
            // nobody listens (ECONNREFUSED): stale, from an earlier run
        }
        Files.deleteIfExists(path);
    }

    private static Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** The listening channel. */
    public ServerSocketChannel channel() {
        return channel;
    }

    /** Where it listens. */
    public Path path() {
        return path;
    }

    /** Stops listening and removes the file if it is still the socket bound here. */
    @Override
    public void close() throws IOException {
        channel.close();
        try {
            if (fileKey != null && fileKey.equals(fileKey(path))) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException e) {
            // already gone
        }
    }
}
