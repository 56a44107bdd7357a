package dev.jkvm.vmm.chardev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.JkvmException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChardevTest {

    @TempDir
    Path dir;

    @Test
    void parsesQemusSpellings() {
        assertEquals(new ChardevSpec.Socket("m", new ChardevSpec.Address.Unix(Path.of("/tmp/m.sock")), true, false),
                ChardevSpec.parse("socket,id=m,path=/tmp/m.sock,server=on,wait=off"));
        assertEquals(new ChardevSpec.Socket("m", new ChardevSpec.Address.Unix(Path.of("/tmp/m.sock")), true, true),
                ChardevSpec.parse("socket,id=m,path=/tmp/m.sock,server"));
        assertEquals(new ChardevSpec.Socket("t", new ChardevSpec.Address.Tcp("localhost", 4444), true, false),
                ChardevSpec.parse("socket,id=t,port=4444,server,nowait"));
        assertEquals(new ChardevSpec.Socket("c", new ChardevSpec.Address.Tcp("127.0.0.1", 80), false, false),
                ChardevSpec.parse("socket,id=c,host=127.0.0.1,port=80"));
        assertEquals(new ChardevSpec.File("f", Path.of("x.log"), true), ChardevSpec.parse("file,id=f,path=x.log,append=on"));
        assertEquals(new ChardevSpec.Null("n"), ChardevSpec.parse("null,id=n"));
        assertEquals(new ChardevSpec.Stdio("s"), ChardevSpec.parse("stdio,id=s,signal=off"));
        assertEquals(new ChardevSpec.Socket("d", new ChardevSpec.Address.Tcp("localhost", 5), true, false),
                ChardevSpec.legacy("tcp::5,server,nowait", "d", "-debugcon"));
    }

    @Test
    void refusesWhatQemuRefuses() {
        assertEquals("-chardev bogus,id=a: 'bogus' is not a valid char driver name (jkvm has null, stdio, file, socket)",
                assertThrows(JkvmException.class, () -> ChardevSpec.parse("bogus,id=a")).getMessage());
        assertEquals("-chardev file,id=a: chardev: file: no filename given",
                assertThrows(JkvmException.class, () -> ChardevSpec.parse("file,id=a")).getMessage());
        assertEquals("-chardev null: Parameter 'id' is missing",
                assertThrows(JkvmException.class, () -> ChardevSpec.parse("null")).getMessage());
        assertEquals("-chardev null,id=a,colour=red: Invalid parameter 'colour'",
                assertThrows(JkvmException.class, () -> ChardevSpec.parse("null,id=a,colour=red")).getMessage());
        assertThrows(JkvmException.class, () -> ChardevSpec.parse("socket,id=a,port=99999"));
        assertThrows(JkvmException.class, () -> ChardevSpec.parse("socket,id=a,server=maybe,port=1"));
        assertThrows(JkvmException.class, () -> ChardevSpec.parse("socket,id=a"));
    }

    @Test
    void eachChardevServesOneFrontend() {
        ChardevRegistry r = new ChardevRegistry();
        r.define(ChardevSpec.parse("null,id=a"));
        assertEquals("-chardev: Duplicate ID 'a' for chardev",
                assertThrows(JkvmException.class, () -> r.define(ChardevSpec.parse("null,id=a"))).getMessage());
        r.claim("a", "-serial chardev:a");
        assertEquals("-mon chardev=a: Device 'a' is in use",
                assertThrows(JkvmException.class, () -> r.claim("a", "-mon chardev=a")).getMessage());
        assertEquals("-mon chardev=b: chardev 'b' not found",
                assertThrows(JkvmException.class, () -> r.claim("b", "-mon chardev=b")).getMessage());
    }

    @Test
    void fileChardevGetsEveryByte() throws Exception {
        Path log = dir.resolve("log");
        try (ChardevEndpoint e = ChardevEndpoint.open(new ChardevSpec.File("f", log, false), "test", null, s -> { })) {
            e.sink().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals("hello\n", Files.readString(log));
    }

    @Test
    void unixServerEchoesThroughItsSessionAndTakesTheNextClient() throws Exception {
        Path sock = dir.resolve("c.sock");
        ChardevSpec spec = new ChardevSpec.Socket("s", new ChardevSpec.Address.Unix(sock), true, false);
        try (ChardevEndpoint e = ChardevEndpoint.open(spec, "test", (in, out) -> {
            int b;
            while ((b = in.read()) >= 0) {
                out.write(Character.toUpperCase(b));
            }
        }, s -> { })) {
            for (int round = 0; round < 2; round++) { // the second client after the first left
                try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ch.connect(UnixDomainSocketAddress.of(sock));
                    OutputStream out = Channels.newOutputStream(ch);
                    InputStream in = Channels.newInputStream(ch);
                    out.write("abc".getBytes(StandardCharsets.US_ASCII));
                    byte[] got = in.readNBytes(3);
                    assertEquals("ABC", new String(got, StandardCharsets.US_ASCII));
                }
            }
        }
        assertTrue(Files.notExists(sock));
    }

    @Test
    void aRegularFileAtTheSocketPathIsRefusedNotDeleted() throws Exception {
        Path file = dir.resolve("precious");
        Files.writeString(file, "keep");
        ChardevSpec spec = new ChardevSpec.Socket("s", new ChardevSpec.Address.Unix(file), true, false);
        JkvmException e = assertThrows(JkvmException.class, () -> ChardevEndpoint.open(spec, "-mon chardev=s", null, s -> { }));
        assertTrue(e.getMessage().contains("exists and is not a socket"), e.getMessage());
        assertEquals("keep", Files.readString(file));
    }

    @Test
    void aClientThatNeverReadsCostsTheRingOnly() throws Exception {
        Path sock = dir.resolve("slow.sock");
        ChardevSpec spec = new ChardevSpec.Socket("s", new ChardevSpec.Address.Unix(sock), true, false);
        try (ChardevEndpoint e = ChardevEndpoint.open(spec, "test", null, s -> { });
             SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(sock));
            byte[] mib = new byte[1 << 20];
            for (int i = 0; i < 16; i++) {
                e.sink().write(mib); // returns at once whatever the client does
            }
            assertTrue(e.dropped() > 0);
        }
    }

    @Test
    void aClientThatHalfClosesAfterItsLastLineStillGetsTheAnswer() throws Exception {
        // echo 'info cpus' | socat - unix-connect:...: the request, then EOF, then the answer is read.
        Path sock = dir.resolve("half.sock");
        ChardevSpec spec = new ChardevSpec.Socket("m", new ChardevSpec.Address.Unix(sock), true, false);
        ChardevEndpoint.Session answer = (in, out) -> {
            String line = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
            out.write(("answer to " + line + "\n").getBytes(StandardCharsets.US_ASCII));
        };
        try (ChardevEndpoint e = ChardevEndpoint.open(spec, "test", answer, s -> { })) {
            for (int i = 0; i < 3; i++) {
                try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ch.connect(UnixDomainSocketAddress.of(sock));
                    ch.write(java.nio.ByteBuffer.wrap(("q" + i + "\n").getBytes(StandardCharsets.US_ASCII)));
                    ch.shutdownOutput();
                    byte[] got = java.nio.channels.Channels.newInputStream(ch).readAllBytes();
                    assertEquals("answer to q" + i + "\n", new String(got, StandardCharsets.US_ASCII));
                }
            }
        }
    }
}
