package dev.jkvm.vmm.trace;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code -exit-trace FILE[,limit=N]}: where the exit trace goes and how many events it may hold.
 * A name ending in {@code .html} gets the self-contained timeline page instead of the JSON file.
 *
 * <pre>{@code
 * TraceSpec s = TraceSpec.parse("exits.json,limit=100000");
 * s.limit();   // 100000
 * }</pre>
 *
 * @param path the file
 * @param limit events at most; the trace says where it was cut
 */
public record TraceSpec(Path path, long limit) {

    /** A few million events: about a million and a half exits, some 350 MB of JSON. */
    public static final long DEFAULT_LIMIT = 3_000_000;
    /** For the HTML page, which a browser parses whole: a third of that. */
    public static final long DEFAULT_HTML_LIMIT = 1_000_000;
    /** The limit's ceiling, against typos that would fill a disk. */
    public static final long MAX_LIMIT = 1_000_000_000;

    public TraceSpec {
        Objects.requireNonNull(path, "path");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1 to " + MAX_LIMIT + ": " + limit);
        }
    }

    /** The file with the default limit. */
    public static TraceSpec of(Path path) {
        return new TraceSpec(path, isHtml(path) ? DEFAULT_HTML_LIMIT : DEFAULT_LIMIT);
    }

    /** Whether the file gets the HTML timeline page (by its name). */
    public boolean html() {
        return isHtml(path);
    }

    private static boolean isHtml(Path path) {
        String n = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".html") || n.endsWith(".htm");
    }

    /**
     * Parses {@code FILE[,limit=N]} (N may end in K or M); a comma inside the file name is written
     * twice, as QEMU's option syntax has it.
     *
     * @throws IllegalArgumentException with a one-line reason
     */
    public static TraceSpec parse(String value) {
        String text = value.replace(",,", "\u0000");
        String[] parts = text.split(",", -1);
        String file = parts[0].replace('\u0000', ',');
        if (file.isEmpty()) {
            throw new IllegalArgumentException("a file name is needed (FILE[,limit=N])");
        }
        long limit = isHtml(Path.of(file)) ? DEFAULT_HTML_LIMIT : DEFAULT_LIMIT;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            if (!p.startsWith("limit=")) {
                throw new IllegalArgumentException("unsupported option '" + p.replace('\u0000', ',') + "' (FILE[,limit=N])");
            }
            limit = parseCount(p.substring(6));
        }
        return new TraceSpec(Path.of(file), limit);
    }

    private static long parseCount(String v) {
        long scale = 1;
        String digits = v;
        if (v.endsWith("K") || v.endsWith("k")) {
            scale = 1_000;
            digits = v.substring(0, v.length() - 1);
        } else if (v.endsWith("M") || v.endsWith("m")) {
            scale = 1_000_000;
            digits = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(digits);
            if (n >= 1 && n <= MAX_LIMIT / scale) {
                return n * scale;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("limit=" + v + ": expected a number of events from 1 to " + MAX_LIMIT);
    }
}
