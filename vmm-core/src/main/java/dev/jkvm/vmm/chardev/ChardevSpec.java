package dev.jkvm.vmm.chardev;

import dev.jkvm.vmm.JkvmException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One character device as QEMU's {@code -chardev BACKEND,id=ID,...} describes it: where bytes a
 * frontend (a serial port, the monitor, isa-debugcon) writes go and where its input comes from.
 * Parsed once; {@link ChardevEndpoint} opens it.
 *
 * <pre>{@code
 * ChardevSpec.parse("socket,id=mon0,path=/tmp/m.sock,server=on,wait=off");
 * ChardevSpec.parse("file,id=log,path=seabios.log");
 * ChardevSpec.legacy("file:com1.log", "serial0");   // -serial / -debugcon syntax
 * }</pre>
 */
public sealed interface ChardevSpec {

    /** The chardev's id ({@code id=}); for one made from {@code -serial}/{@code -debugcon} syntax, a generated one. */
    String id();

    /** {@code null}: output dropped, no input. */
    record Null(String id) implements ChardevSpec {
    }

    /** {@code stdio}: standard output, and standard input. */
    record Stdio(String id) implements ChardevSpec {
    }

    /** {@code file,path=P[,append=on]}: output into a file (created, truncated unless appending); no input. */
    record File(String id, Path path, boolean append) implements ChardevSpec {
        public File {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * {@code socket,path=P} (Unix) or {@code socket,host=H,port=N} (TCP), listening ({@code server=on})
     * or connecting; a server with {@code wait=on} (QEMU's default for a server) holds the start
     * until the first client connects. One client at a time.
     */
    record Socket(String id, Address address, boolean server, boolean waitForClient) implements ChardevSpec {
        public Socket {
            Objects.requireNonNull(address, "address");
        }
    }

    /** Where a socket chardev listens or connects. */
    sealed interface Address {
        /** A Unix domain socket. */
        record Unix(Path path) implements Address {
            @Override
            public String toString() {
                return "unix:" + path;
            }
        }

        /** TCP; the host is the loopback interface unless one is given. */
        record Tcp(String host, int port) implements Address {
            @Override
            public String toString() {
                return "tcp:" + host + ":" + port;
            }
        }
    }

    /** The backend names {@link #parse} knows, as QEMU spells them. */
    String BACKENDS = "null, stdio, file, socket";

    /**
     * QEMU's {@code -chardev} argument: {@code BACKEND,id=ID[,key=value...]}; booleans as {@code on|off}
     * (also {@code true|false|yes|no}), and the old flag spellings {@code server}, {@code nowait}.
     *
     * @throws JkvmException with QEMU's message for an unknown backend, a missing id or path, an unknown key
     */
    static ChardevSpec parse(String value) {
        String where = "-chardev " + value + ": ";
        String[] items = value.split(",", -1);
        String backend = items[0];
        Map<String, String> props = new LinkedHashMap<>();
        for (int i = 1; i < items.length; i++) {
            String item = items[i];
            int eq = item.indexOf('=');
            if (eq < 0) {
                switch (item) {
                    case "server", "wait", "telnet", "nodelay", "append", "mux", "ipv4", "ipv6" -> props.put(item, "on");
                    case "nowait" -> props.put("wait", "off");
                    default -> throw new JkvmException(where + "Invalid parameter '" + item + "'");
                }
            } else {
                props.put(item.substring(0, eq), item.substring(eq + 1));
            }
        }
        String id = props.remove("id");
        if (id == null || id.isEmpty()) {
            throw new JkvmException(where + "Parameter 'id' is missing");
        }
        if (!id.matches("[A-Za-z][A-Za-z0-9_.-]*")) {
            throw new JkvmException(where + "Parameter 'id' expects an identifier");
        }
        ChardevSpec spec = switch (backend) {
            case "null" -> new Null(id);
            case "stdio" -> {
                props.remove("signal"); // signal=off: jkvm's stdio mux never turns Ctrl-C into a signal anyway
                yield new Stdio(id);
            }
            case "file" -> {
                String path = props.remove("path");
                if (path == null || path.isEmpty()) {
                    throw new JkvmException(where + "chardev: file: no filename given");
                }
                yield new File(id, Path.of(path), bool(where, "append", props.remove("append"), false));
            }
            case "socket" -> socket(where, id, props);
            default -> throw new JkvmException(where + "'" + backend + "' is not a valid char driver name (jkvm has "
                    + BACKENDS + ")");
        };
        props.remove("logfile"); // not offered: refused below like any other key
        if (props.containsKey("mux") && bool(where, "mux", props.get("mux"), false)) {
            throw new JkvmException(where + "mux=on: jkvm gives each chardev to one frontend only");
        }
        props.remove("mux");
        if (!props.isEmpty()) {
            throw new JkvmException(where + "Invalid parameter '" + props.keySet().iterator().next() + "'");
        }
        return spec;
    }

    private static Socket socket(String where, String id, Map<String, String> props) {
        boolean server = bool(where, "server", props.remove("server"), false);
        boolean waitForClient = bool(where, "wait", props.remove("wait"), true);
        String path = props.remove("path");
        String host = props.remove("host");
        String port = props.remove("port");
        props.remove("nodelay");
        if (bool(where, "telnet", props.remove("telnet"), false)) {
            throw new JkvmException(where + "telnet=on: jkvm's sockets carry raw bytes only");
        }
        Address address;
        if (path != null) {
            if (host != null || port != null) {
                throw new JkvmException(where + "'path' and 'host'/'port' are mutually exclusive");
            }
            if (path.isEmpty()) {
                throw new JkvmException(where + "chardev: socket: no path given");
            }
            address = new Address.Unix(Path.of(path));
        } else if (port != null) {
            address = new Address.Tcp(host == null || host.isEmpty() ? "localhost" : host, port(where, port));
        } else {
            throw new JkvmException(where + "chardev: socket: 'host' or 'path' required");
        }
        return new Socket(id, address, server, server && waitForClient);
    }

    /**
     * The short syntax of {@code -serial}, {@code -monitor} and {@code -debugcon}: {@code stdio},
     * {@code null}/{@code none}, {@code file:PATH}, {@code unix:PATH[,server][,nowait]},
     * {@code tcp:[HOST]:PORT[,server][,nowait]}, as a chardev named {@code id}.
     *
     * @throws JkvmException naming the option for anything else
     */
    static ChardevSpec legacy(String value, String id, String option) {
        String where = option + " " + value + ": ";
        if (value.equals("stdio")) {
            return new Stdio(id);
        }
        if (value.equals("null") || value.equals("none")) {
            return new Null(id);
        }
        if (value.startsWith("file:") && value.length() > 5) {
            return new File(id, Path.of(value.substring(5)), false);
        }
        if (value.startsWith("unix:") || value.startsWith("tcp:")) {
            String[] parts = value.substring(value.indexOf(':') + 1).split(",", -1);
            boolean server = false;
            boolean waitForClient = true;
            for (int i = 1; i < parts.length; i++) {
                switch (parts[i]) {
                    case "server", "server=on" -> server = true;
                    case "server=off" -> server = false;
                    case "nowait", "wait=off" -> waitForClient = false;
                    case "wait=on" -> waitForClient = true;
                    case "nodelay", "nodelay=on" -> {
                    }
                    default -> throw new JkvmException(where + "unsupported option '" + parts[i] + "' (server, wait=on|off)");
                }
            }
            Address address;
            if (value.startsWith("unix:")) {
                if (parts[0].isEmpty()) {
                    throw new JkvmException(where + "a socket path is needed");
                }
                address = new Address.Unix(Path.of(parts[0]));
            } else {
                int colon = parts[0].lastIndexOf(':');
                if (colon < 0) {
                    throw new JkvmException(where + "expected tcp:[HOST]:PORT");
                }
                String host = parts[0].substring(0, colon);
                address = new Address.Tcp(host.isEmpty() ? "localhost" : host, port(where, parts[0].substring(colon + 1)));
            }
            return new Socket(id, address, server, server && waitForClient);
        }
        throw new JkvmException(where + "unsupported character device (stdio, null, file:PATH, unix:PATH[,server][,nowait],"
                + " tcp:[HOST]:PORT[,server][,nowait], chardev:ID)");
    }

    private static int port(String where, String port) {
        try {
            int p = Integer.parseInt(port);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // the one-line error below
        }
        throw new JkvmException(where + "port '" + port + "' is not a TCP port number");
    }

    private static boolean bool(String where, String key, String value, boolean dflt) {
        if (value == null) {
            return dflt;
        }
        return switch (value) {
            case "on", "true", "yes" -> true;
            case "off", "false", "no" -> false;
            default -> throw new JkvmException(where + "Parameter '" + key + "' expects 'on' or 'off'");
        };
    }
}
