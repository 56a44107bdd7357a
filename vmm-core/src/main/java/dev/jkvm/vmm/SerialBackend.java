package dev.jkvm.vmm;

import dev.jkvm.vmm.chardev.ChardevSpec;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * Where a serial port's output goes and its input comes from ({@code -serial}, as QEMU spells it).
 *
 * <pre>{@code
 * SerialBackend.stdio();                    // -serial stdio, the default with -nographic
 * SerialBackend.none();                     // -serial none (and null)
 * SerialBackend.file(Path.of("com1.log"));  // -serial file:com1.log
 * SerialBackend.unix(Path.of("/tmp/s"));    // -serial unix:/tmp/s,server,nowait
 * SerialBackend.unix(Path.of("/tmp/s"), true);  // -serial unix:/tmp/s,server: waits for a client first
 * SerialBackend.stream(new ByteArrayOutputStream());  // embedding: collect it
 * }</pre>
 *
 * <p>Whatever the backend, the machine also keeps the transcript ({@code machine.serial()}).
 */
public sealed interface SerialBackend {

    /** The process's standard output (and, for COM1, standard input). */
    static SerialBackend stdio() {
        return Stdio.INSTANCE;
    }

    /** Discarded. */
    static SerialBackend none() {
        return None.INSTANCE;
    }

    /** A file, created or truncated. */
    static SerialBackend file(Path path) {
        return new File(path);
    }

    /** A Unix socket jkvm listens on; one client at a time reads the output and writes the input. */
    static SerialBackend unix(Path path) {
        return new Unix(path, false);
    }

    /**
     * A Unix socket jkvm listens on; with {@code wait}, {@code Machine.create} returns only once the
     * first client has connected (QEMU's {@code server} without {@code nowait}).
     */
    static SerialBackend unix(Path path, boolean wait) {
        return new Unix(path, wait);
    }

    /** A stream the embedding program supplies (jkvm does not close it). */
    static SerialBackend stream(OutputStream out) {
        return new Stream(out);
    }

    /**
     * QEMU's {@code -serial} syntax: {@code stdio}, {@code mon:stdio}, {@code none}, {@code null},
     * {@code file:PATH}, {@code unix:PATH[,server][,nowait]} ({@code server=on}, {@code wait=on|off}):
     * {@code server} without {@code nowait} waits for a client before the guest starts, as QEMU.
     *
     * @throws JkvmException naming what is wrong
     */
    static SerialBackend parse(String spec) {
        if (spec.equals("stdio") || spec.equals("mon:stdio")) {
            return stdio();
        }
        if (spec.equals("none") || spec.equals("null")) {
            return none();
        }
        if (spec.startsWith("file:") && spec.length() > 5) {
            return file(Path.of(spec.substring(5)));
        }
        if (spec.startsWith("unix:")) {
            String[] parts = spec.substring(5).split(",");
            boolean server = false;
            Boolean wait = null;
            for (int i = 1; i < parts.length; i++) {
                switch (parts[i]) {
                    case "server", "server=on" -> server = true;
                    case "nowait", "wait=off" -> wait = false;
                    case "wait", "wait=on" -> wait = true;
                    default -> throw new JkvmException("-serial " + spec + ": unsupported option '" + parts[i]
                            + "' (server, nowait, wait=on|off)");
                }
            }
            if (!parts[0].isEmpty()) {
                // QEMU waits for the first client unless told nowait; a bare unix:PATH has always listened here without waiting
                return unix(Path.of(parts[0]), server && (wait == null || wait));
            }
        }
        throw new JkvmException("-serial " + spec + ": unsupported serial backend (stdio, none, file:PATH, unix:PATH,server[,nowait])");
    }

    /**
     * The stream the port transmits into. The machine closes what it opened (files, sockets) when
     * it closes, and never a caller's stream or standard output.
     */
    default OutputStream openSink() {
        // instanceof tests, not a pattern switch: each switch site's bootstrap costs a tiny guest's
        // start-up about a millisecond interpreted, and the AOT cache does not resolve it ahead
        if (this instanceof Stdio) {
            return new FileOutputStream(FileDescriptor.out);
        }
        if (this instanceof Stream s) {
            return s.out();
        }
        if (this instanceof File f) {
            try {
                return new FileOutputStream(f.path().toFile());
            } catch (IOException e) {
                throw new JkvmException("-serial file:" + f.path() + ": cannot open: " + e.getMessage());
            }
        }
        // None; Unix and Chardev: the socket side is wired by the machine (ChardevEndpoint)
        return OutputStream.nullOutputStream();
    }

    /** Standard output. */
    enum Stdio implements SerialBackend { INSTANCE }

    /** Nowhere. */
    enum None implements SerialBackend { INSTANCE }

    /** A file. */
    record File(Path path) implements SerialBackend {
    }

    /** A Unix socket server; {@code waitForClient}: wait for the first client before the guest starts. */
    record Unix(Path path, boolean waitForClient) implements SerialBackend {
    }

    /**
     * A {@code -chardev} ({@code -serial chardev:ID}) other than stdio, null or a plain file: a TCP or
     * Unix socket, listening or connecting; one client at a time gets the output and sends input.
     */
    record Chardev(ChardevSpec spec) implements SerialBackend {
    }

    /**
     * The backend {@code -serial chardev:ID} means: stdio, null and a truncated file map onto
     * their own backends (stdio keeps its terminal mux), anything else stays a chardev.
     */
    static SerialBackend of(ChardevSpec spec) {
        return switch (spec) {
            case ChardevSpec.Stdio s -> stdio();
            case ChardevSpec.Null n -> none();
            case ChardevSpec.File f when !f.append() -> file(f.path());
            default -> new Chardev(spec);
        };
    }

    /** A caller's stream. */
    record Stream(OutputStream out) implements SerialBackend {
    }
}
