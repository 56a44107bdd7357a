package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code -serial file:PATH} and {@code -serial unix:PATH,server,nowait}, and more than one port. */
@RequiresKvm
class SerialBackendTest {

    @Test
    void aFileGetsWhatTheGuestPrints(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("com1.log");
        try (Machine m = DevicesGuestTest.machine("-bios", "hello", "-serial", "file:" + log)) {
            assertEquals(RunResult.Reason.HALTED, m.run(Duration.ofSeconds(30)).reason());
        }
        assertEquals("Hello from the guest\r\n", Files.readString(log));
    }

    @Test
    void aUnixSocketClientTalksToTheGuest(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("com1.sock");
        try (Machine m = DevicesGuestTest.machine("-kernel", "echo", "-serial", "unix:" + sock + ",server,nowait")) {
            m.start();
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(sock));
                assertTrue(m.serial().awaitLine(java.util.regex.Pattern.compile("echo ready"), Duration.ofSeconds(60)).isPresent());
                Channels.newOutputStream(ch).write("over the socket\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.US_ASCII));
                String line;
                while ((line = in.readLine()) != null && !line.startsWith("echo: ")) {
                    // lines before the answer
                }
                assertEquals("echo: OVER THE SOCKET", line == null ? null : line.strip());
            }
        }
        assertTrue(!Files.exists(sock), "the socket file is removed when the machine closes");
    }

    @Test
    void fourSerialPortsAtThePcAddresses() {
        try (Machine m = DevicesGuestTest.machine("-bios", "hello", "-serial", "none", "-serial", "none", "-serial", "none",
                "-serial", "none")) {
            String devices = m.devices().describe();
            for (String ports : new String[] {"0x3f8-0x3ff", "0x2f8-0x2ff", "0x3e8-0x3ef", "0x2e8-0x2ef"}) {
                assertTrue(devices.contains(ports), devices);
            }
            assertEquals("Hello from the guest\r\n", m.run(Duration.ofSeconds(30)).serial());
        }
    }
}
