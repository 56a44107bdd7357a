package dev.jkvm.vmm;

import java.io.OutputStream;

/**
 * Where the guest's COM1 output goes.
 *
 * <pre>{@code
 * SerialBackend.stdio();                    // -serial stdio, the default with -nographic
 * SerialBackend.none();                     // -serial none
 * SerialBackend.stream(new ByteArrayOutputStream());  // embedding: collect it
 * }</pre>
 */
public sealed interface SerialBackend {

    /** The process's standard output. */
    static SerialBackend stdio() {
        return Stdio.INSTANCE;
    }

    /** Discarded. */
    static SerialBackend none() {
        return None.INSTANCE;
    }

    /** A stream the embedding program supplies (jkvm does not close it). */
    static SerialBackend stream(OutputStream out) {
        return new Stream(out);
    }

    /** The stream the port transmits into (not to be closed by the machine: it may be a caller's). */
    default OutputStream openSink() {
        return switch (this) {
            case Stdio s -> new java.io.FileOutputStream(java.io.FileDescriptor.out);
            case None n -> OutputStream.nullOutputStream();
            case Stream s -> s.out();
        };
    }

    /** Standard output. */
    enum Stdio implements SerialBackend { INSTANCE }

    /** Nowhere. */
    enum None implements SerialBackend { INSTANCE }

    /** A caller's stream. */
    record Stream(OutputStream out) implements SerialBackend {
    }
}
