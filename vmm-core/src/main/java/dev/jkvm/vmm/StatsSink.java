package dev.jkvm.vmm;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Where {@code -stats} goes: stderr (beside jkvm's warnings), or the file of {@code ,file=PATH},
 * created when jkvm starts so that a path it cannot write is bad input before the guest runs.
 *
 * <pre>{@code
 * StatsSink.open(Optional.of(Path.of("s.json")), System.err).write(json);
 * }</pre>
 */
final class StatsSink {

    private final Path file;
    private final PrintStream err;

    private StatsSink(Path file, PrintStream err) {
        this.file = file;
        this.err = err;
    }

    /** A sink on {@code file} (created empty now), or on {@code err}. */
    static StatsSink open(Optional<Path> file, PrintStream err) {
        if (file.isPresent()) {
            try {
                Files.write(file.get(), new byte[0]); // creates or truncates; /dev/stdout stays a device
            } catch (IOException e) {
                throw new JkvmException("-stats file=" + file.get() + ": cannot write: " + reason(e));
            }
        }
        return new StatsSink(file.orElse(null), err);
    }

    /** Writes the report; a failure now is one line on stderr (the guest's exit status stands). */
    void write(String text) {
        if (file == null) {
            err.print(text);
            err.flush();
            return;
        }
        System.out.flush(); // file=/dev/stdout: after the guest's own output
        try {
            // Appended: the file was emptied at start, and /dev/stdout may be a file the shell opened.
            Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            err.println("jkvm: -stats file=" + file + ": cannot write: " + reason(e));
        }
    }

    private static String reason(IOException e) {
        return e instanceof NoSuchFileException ? "no such directory"
                : e instanceof AccessDeniedException ? "permission denied"
                : e.getMessage();
    }
}
