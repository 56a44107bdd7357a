package dev.jkvm.vmm;

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
        return new Unix(path);
    }

    /** A stream the embedding program supplies (jkvm does not close it). */
    static SerialBackend stream(OutputStream out) {
        return new Stream(out);
    }

    /**
     * QEMU's {@code -serial} syntax: {@code stdio}, {@code mon:stdio}, {@code none}, {@code null},
     * {@code file:PATH}, {@code unix:PATH[,server][,nowait]}.
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
            for (int i = 1; i < parts.length; i++) {
                if (!parts[i].equals("server") && !parts[i].equals("nowait") && !parts[i].equals("server=on")
                        && !parts[i].equals("wait=off")) {
                    throw new JkvmException("-serial " + spec + ": unsupported option '" + parts[i] + "' (server,nowait)");
                }
            }
            if (!parts[0].isEmpty()) {
                return unix(Path.of(parts[0]));
            }
        }
        throw new JkvmException("-serial " + spec + ": unsupported serial backend (stdio, none, file:PATH, unix:PATH,server,nowait)");
    }

    /**
     * The stream the port transmits into. The machine closes what it opened (files, sockets) when
     * it closes, and never a caller's stream or standard output.
     */
    default OutputStream openSink() {
        return switch (this) {
            case Stdio s -> new FileOutputStream(java.io.FileDescriptor.out);
            case None n -> OutputStream.nullOutputStream();
            case Stream s -> s.out();
            case File f -> {
                try {
                    yield new FileOutputStream(f.path().toFile());
                } catch (IOException e) {
                    throw new JkvmException("-serial file:" + f.path() + ": cannot open: " + e.getMessage());
                }
            }
            case Unix u -> OutputStream.nullOutputStream(); // the socket side is wired by the machine
            case Chardev c -> OutputStream.nullOutputStream(); // opened by the machine (ChardevEndpoint)
        };
    }

    /** Standard output. */
    enum Stdio implements SerialBackend { INSTANCE }

    /** Nowhere. */
    enum None implements SerialBackend { INSTANCE }

    /** A file. */
    record File(Path path) implements SerialBackend {
    }

    /** A Unix socket server. */
    record Unix(Path path) implements SerialBackend {
    }

    /**
     * A {@code -chardev} ({@code -serial chardev:ID}) other than stdio, null or a plain file: a TCP or
     * Unix socket, listening or connecting; one client at a time gets the output and sends input.
     */
    record Chardev(dev.jkvm.vmm.chardev.ChardevSpec spec) implements SerialBackend {
    }

    /**
     * The backend {@code -serial chardev:ID} means: stdio, null and a truncated file map onto
     * their own backends (stdio keeps its terminal mux), anything else stays a chardev.
     */
    static SerialBackend of(dev.jkvm.vmm.chardev.ChardevSpec spec) {
        return switch (spec) {
            case dev.jkvm.vmm.chardev.ChardevSpec.Stdio s -> stdio();
            case dev.jkvm.vmm.chardev.ChardevSpec.Null n -> none();
            case dev.jkvm.vmm.chardev.ChardevSpec.File f when !f.append() -> file(f.path());
            default -> new Chardev(spec);
        };
    }

    /** A caller's stream. */
    record Stream(OutputStream out) implements SerialBackend {
    }
}
