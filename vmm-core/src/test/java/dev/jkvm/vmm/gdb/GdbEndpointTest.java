package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.JkvmException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GdbEndpointTest {

    /** The stub's "debugger connected from ..." line: an address and a port, as QEMU users read them. */
    @Test
    void aPeerIsAnAddressAndAPortWithNoSlash() throws Exception {
        assertEquals("127.0.0.1:40312", Connection.describe(new java.net.InetSocketAddress(
                java.net.InetAddress.getByName("127.0.0.1"), 40312)));
        assertEquals("[0:0:0:0:0:0:0:1]:1234", Connection.describe(new java.net.InetSocketAddress(
                java.net.InetAddress.getByName("::1"), 1234)));
        assertEquals("a local socket", Connection.describe(null));
    }

    @Test
    void parsesQemuDeviceStrings() {
        assertEquals(Optional.of(new GdbEndpoint.Tcp("", 1234)), GdbEndpoint.parse("tcp::1234"));
        assertEquals(Optional.of(new GdbEndpoint.Tcp("0.0.0.0", 4321)), GdbEndpoint.parse("tcp:0.0.0.0:4321"));
        assertEquals(Optional.of(new GdbEndpoint.Tcp("localhost", 1)), GdbEndpoint.parse("tcp:localhost:1"));
        assertEquals(Optional.of(new GdbEndpoint.Tcp("::1", 1234)), GdbEndpoint.parse("tcp:[::1]:1234"));
        assertEquals(Optional.of(new GdbEndpoint.Tcp("", 1234)), GdbEndpoint.parse("tcp::1234,server,nowait"));
        assertEquals(Optional.of(new GdbEndpoint.Tcp("", 1234)), GdbEndpoint.parse("tcp::1234,server=on,wait=off"));
        assertEquals(Optional.of(new GdbEndpoint.Tcp("", 5555)), GdbEndpoint.parse("5555"));
        assertEquals(Optional.of(new GdbEndpoint.Unix(Path.of("/tmp/g.sock"))), GdbEndpoint.parse("unix:/tmp/g.sock"));
        assertEquals(Optional.of(new GdbEndpoint.Unix(Path.of("/tmp/g.sock"))), GdbEndpoint.parse("unix:/tmp/g.sock,server=on,wait=off"));
        assertTrue(GdbEndpoint.parse("none").isEmpty());
        assertEquals(new GdbEndpoint.Tcp("", 1234), GdbEndpoint.DEFAULT);
        assertEquals("tcp::1234", GdbEndpoint.DEFAULT.toString());
    }

    @Test
    void rejectsWithOneLine() {
        for (String bad : new String[] {"tcp:1234", "tcp::99999", "tcp::abc", "unix:", "stdio", "udp::1", "tcp::1,telnet"}) {
            JkvmException e = assertThrows(JkvmException.class, () -> GdbEndpoint.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("-gdb " + bad + ": "), e.getMessage());
            assertEquals(-1, e.getMessage().indexOf('\n'));
        }
    }
}
