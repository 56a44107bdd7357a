package dev.jkvm.vmm;

import java.nio.file.Path;

/**
 * Where a QMP monitor listens ({@code -qmp}, {@code -qmp-pretty}, {@code -mon mode=control}), in
 * QEMU's character-device spelling: {@code unix:PATH,server[,wait=off]} (or {@code nowait}),
 * {@code tcp:[HOST]:PORT,server[,wait=off]} (loopback without a host, as jkvm's GDB stub),
 * {@code stdio}. Without {@code wait=off} jkvm waits for the first client before the guest runs,
 * as QEMU does.
 *
 * @param kind where
 * @param path the socket file (UNIX)
 * @param host the address (TCP; empty: loopback)
 * @param port the port (TCP; 0: any free one)
 * @param waitForClient hold the guest until a client connects
 * @param pretty QEMU's {@code -qmp-pretty} layout
 */
public record QmpSpec(Kind kind, Path path, String host, int port, boolean waitForClient, boolean pretty) {

    public enum Kind { UNIX, TCP, STDIO }

    /** A Unix socket at {@code path}, not waiting for a client. */
    public static QmpSpec unix(Path path) {
        return new QmpSpec(Kind.UNIX, path, "", 0, false, false);
    }

    /** A loopback TCP port ({@code 0}: any free one), not waiting for a client. */
    public static QmpSpec tcp(int port) {
        return new QmpSpec(Kind.TCP, null, "", port, false, false);
    }

    /** The same endpoint with QEMU's pretty layout. */
    public QmpSpec withPretty(boolean p) {
        return new QmpSpec(kind, path, host, port, waitForClient, p);
    }

    /** Parses {@code -qmp}'s value. */
    public static QmpSpec parse(String v, boolean pretty) {
        if (v.equals("stdio")) {
            return new QmpSpec(Kind.STDIO, null, "", 0, false, pretty);
        }
        String[] parts = v.split(",");
        boolean server = false;
        boolean wait = true;
        for (int i = 1; i < parts.length; i++) {
            switch (parts[i]) {
                case "server", "server=on" -> server = true;
                case "server=off" -> server = false;
                case "nowait", "wait=off" -> wait = false;
                case "wait", "wait=on" -> wait = true;
                default -> throw new IllegalArgumentException("unsupported option '" + parts[i] + "' (server, wait=off, nowait)");
            }
        }
        Kind kind;
        Path path = null;
        String host = "";
        int port = 0;
        if (parts[0].startsWith("unix:")) {
            kind = Kind.UNIX;
            if (parts[0].length() == 5) {
                throw new IllegalArgumentException("a socket path is needed (unix:PATH,server,wait=off)");
            }
            path = Path.of(parts[0].substring(5));
        } else if (parts[0].startsWith("tcp:")) {
            kind = Kind.TCP;
            String hp = parts[0].substring(4);
            int colon = hp.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("expected tcp:[HOST]:PORT");
            }
            host = hp.substring(0, colon);
            try {
                port = Integer.parseInt(hp.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("'" + hp.substring(colon + 1) + "' is not a port number");
            }
        } else {
            throw new IllegalArgumentException("unsupported (unix:PATH,server,wait=off; tcp:HOST:PORT,server,wait=off; stdio)");
        }
        if (!server) {
            throw new IllegalArgumentException("jkvm's QMP monitor listens: add ',server' (connecting out is not supported)");
        }
        return new QmpSpec(kind, path, host, port, wait, pretty);
    }

    /** How QEMU names the endpoint in its messages. */
    public String describe() {
        return switch (kind) {
            case UNIX -> "unix:" + path;
            case TCP -> "tcp:" + host + ":" + port;
            case STDIO -> "stdio";
        };
    }
}
