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

    /** Standard output. */
    enum Stdio implements SerialBackend { INSTANCE }

    /** Nowhere. */
    enum None implements SerialBackend { INSTANCE }

    /** A caller's stream. */
    record Stream(OutputStream out) implements SerialBackend {
    }
}
