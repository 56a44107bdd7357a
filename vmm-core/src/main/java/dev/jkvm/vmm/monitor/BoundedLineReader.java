package dev.jkvm.vmm.monitor;

import java.io.IOException;
import java.io.Reader;

/**
 * Reads command lines of at most {@link #MAX_LINE} characters: a client that sends a gigabyte
 * without a newline costs one line's buffer, not the heap. The rest of an overlong line is read
 * and dropped up to its newline, and the line is reported as {@link #TOO_LONG}. (QEMU's readline
 * buffer holds 4095 characters too.)
 */
final class BoundedLineReader {

    /** The longest command line kept. */
    static final int MAX_LINE = 4096;
    /** Returned (by identity) for a line that was longer than {@link #MAX_LINE}. */
    static final String TOO_LONG = new String("(too long)");

    private final Reader in;
    private final char[] buffer = new char[MAX_LINE];

    BoundedLineReader(Reader in) {
        this.in = in;
    }

    /** The next line without its end ({@code \n}, {@code \r\n}), {@link #TOO_LONG}, or null at the end of input. */
    String readLine() throws IOException {
        int n = 0;
        boolean overlong = false;
        while (true) {
            int c = in.read();
            if (c < 0) {
                return n == 0 && !overlong ? null : overlong ? TOO_LONG : new String(buffer, 0, n);
            }
            if (c == '\n') {
                if (overlong) {
                    return TOO_LONG;
                }
                return new String(buffer, 0, n > 0 && buffer[n - 1] == '\r' ? n - 1 : n);
            }
            if (n < MAX_LINE) {
                buffer[n++] = (char) c;
            } else {
                overlong = true;
            }
        }
    }
}
