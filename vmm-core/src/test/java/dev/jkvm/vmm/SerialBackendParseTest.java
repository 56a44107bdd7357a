package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code -serial unix:} options as QEMU reads them: {@code server} waits for a client unless told {@code nowait}. */
class SerialBackendParseTest {

    private static SerialBackend.Unix unix(String spec) {
        return (SerialBackend.Unix) SerialBackend.parse(spec);
    }

    @Test
    void serverWaitsUnlessNowait() {
        assertEquals(new SerialBackend.Unix(Path.of("/tmp/s"), true), unix("unix:/tmp/s,server"));
        assertEquals(new SerialBackend.Unix(Path.of("/tmp/s"), true), unix("unix:/tmp/s,server=on"));
        assertEquals(new SerialBackend.Unix(Path.of("/tmp/s"), true), unix("unix:/tmp/s,server=on,wait=on"));
        assertEquals(new SerialBackend.Unix(Path.of("/tmp/s"), false), unix("unix:/tmp/s,server,nowait"));
        assertEquals(new SerialBackend.Unix(Path.of("/tmp/s"), false), unix("unix:/tmp/s,server=on,wait=off"));
        assertEquals(new SerialBackend.Unix(Path.of("/tmp/s"), false), unix("unix:/tmp/s,nowait,server"));
    }

    @Test
    void anUnknownOptionIsNamed() {
        JkvmException e = assertThrows(JkvmException.class, () -> SerialBackend.parse("unix:/tmp/s,server,telnet"));
        assertEquals("-serial unix:/tmp/s,server,telnet: unsupported option 'telnet' (server, nowait, wait=on|off)", e.getMessage());
    }
}
