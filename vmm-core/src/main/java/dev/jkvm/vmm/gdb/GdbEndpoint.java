package dev.jkvm.vmm.gdb;

import dev.jkvm.vmm.JkvmException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * Where the gdb server listens, from QEMU's {@code -gdb} device string: {@code tcp::PORT}
 * (loopback), {@code tcp:HOST:PORT}, {@code unix:PATH}, or {@code none}. QEMU's chardev options
 * after a comma ({@code server=on}, {@code wait=off}, {@code nowait}, ...) are accepted and
 * ignored, since the gdb server always is a non-waiting server. {@code -s} is {@code tcp::1234}.
 *
 * <pre>{@code
 * GdbEndpoint.parse("tcp::1234")          // Optional[Tcp[host=, port=1234]]
 * GdbEndpoint.parse("unix:/tmp/gdb.sock") // Optional[Unix[path=/tmp/gdb.sock]]
 * GdbEndpoint.parse("none")               // Optional.empty
 * }</pre>
 */
public sealed interface GdbEndpoint {

    /** QEMU's {@code -s}: {@code tcp::1234}. */
    GdbEndpoint DEFAULT = new Tcp("", 1234);

    /** A TCP port; an empty host means loopback only. */
    record Tcp(String host, int port) implements GdbEndpoint {
        @Override
        public String toString() {
            return "tcp:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** A Unix-domain socket at {@code path}. */
    record Unix(Path path) implements GdbEndpoint {
        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /** The chardev options that make no difference to a gdb server. */
    Set<String> IGNORED_OPTIONS = Set.of("server", "server=on", "server=yes", "wait=off", "wait=no", "nowait",
            "nodelay", "nodelay=on", "ipv4", "ipv4=on", "ipv6", "ipv6=on");

    /** Parses a {@code -gdb} device string; empty for {@code none}; a {@link JkvmException} with one line when bad. */
    static Optional<GdbEndpoint> parse(String device) {
        String[] parts = device.split(",");
        String main = parts[0];
        for (int i = 1; i < parts.length; i++) {
            if (!IGNORED_OPTIONS.contains(parts[i])) {
                throw new JkvmException("-gdb " + device + ": unsupported option '" + parts[i] + "'");
            }
        }
        if (main.equals("none")) {
            return Optional.empty();
        }
        if (main.startsWith("tcp:")) {
            return Optional.of(tcp(device, main.substring(4)));
        }
        if (main.matches("[0-9]+")) {
            return Optional.of(tcp(device, ":" + main));
        }
        if (main.startsWith("unix:")) {
            String path = main.substring(5);
            if (path.isEmpty()) {
                throw new JkvmException("-gdb " + device + ": the unix socket needs a path");
            }
            return Optional.of(new Unix(Path.of(path)));
        }
        throw new JkvmException("-gdb " + device + ": expected tcp::PORT, tcp:HOST:PORT, unix:PATH or none");
    }

    private static Tcp tcp(String device, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new JkvmException("-gdb " + device + ": expected tcp:[HOST]:PORT");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String port = hostPort.substring(colon + 1);
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            number = -1;
        }
        if (number < 0 || number > 65535) {
            throw new JkvmException("-gdb " + device + ": '" + port + "' is not a port number");
        }
        return new Tcp(host, number);
    }
}
