package dev.jkvm.vmm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What jkvm may remove at the path of a Unix socket it is asked to listen on: a stale socket, nothing else. */
class UnixSocketFileTest {

    @Test
    void aRegularFileIsRefusedAndKept(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("notes.txt");
        Files.writeString(p, "precious");
        IOException e = assertThrows(IOException.class, () -> UnixSocketFile.bind(p));
        assertEquals(p + " exists and is not a socket", e.getMessage());
        assertEquals("precious", Files.readString(p));
    }

    @Test
    void aDirectoryIsRefused(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> UnixSocketFile.bind(dir));
        assertEquals(dir + " exists and is not a socket", e.getMessage());
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void aStaleSocketIsReplaced(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("s.sock");
        ServerSocketChannel old = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        old.bind(UnixDomainSocketAddress.of(p));
        old.close(); // the file stays, as after a crash
        assertTrue(Files.exists(p));
        try (UnixSocketFile f = UnixSocketFile.bind(p)) {
            assertTrue(f.channel().isOpen());
        }
        assertTrue(!Files.exists(p), "close removes our socket");
    }

    @Test
    void aSocketSomeoneListensOnIsRefused(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("live.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(p));
            IOException e = assertThrows(IOException.class, () -> UnixSocketFile.bind(p));
            assertEquals(p + " is a socket another process listens on", e.getMessage());
            assertTrue(Files.exists(p));
        }
    }

    @Test
    void closeLeavesAFileThatReplacedOurSocket(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("s.sock");
        UnixSocketFile f = UnixSocketFile.bind(p);
        Files.delete(p);
        Files.writeString(p, "someone else's");
        f.close();
        assertEquals("someone else's", Files.readString(p));
    }
}
