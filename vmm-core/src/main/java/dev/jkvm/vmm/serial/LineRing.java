package dev.jkvm.vmm.serial;

import java.util.ArrayList;
import java.util.List;

/**
 * The most recent complete lines of a console, addressed by their number since the run began (so a
 * reader's position survives lines dropped from the front): at most {@code maxLines} lines and
 * {@code maxChars} characters in all, the oldest dropped first. Not thread-safe: the console's lock
 * guards it.
 */
final class LineRing {

    private final int maxLines;
    private final long maxChars;
    private String[] ring = new String[64];
    private long first;
    private int size;
    private long chars;

    LineRing(int maxLines, long maxChars) {
        this.maxLines = Integer.highestOneBit(maxLines) == maxLines ? maxLines : Integer.highestOneBit(maxLines) << 1;
        this.maxChars = maxChars;
    }

    void add(String line) {
        if (size == ring.length && ring.length < maxLines) {
            String[] bigger = new String[ring.length * 2];
            for (long i = first; i < first + size; i++) {
                bigger[(int) (i & (bigger.length - 1))] = ring[(int) (i & (ring.length - 1))];
            }
            ring = bigger;
        }
        while (size > 0 && (size == ring.length || chars + line.length() > maxChars)) {
            dropFirst();
        }
        ring[(int) ((first + size) & (ring.length - 1))] = line;
        size++;
        chars += line.length();
    }

    private void dropFirst() {
        int at = (int) (first & (ring.length - 1));
        chars -= ring[at].length();
        ring[at] = null;
        first++;
        size--;
    }

    /** The number of the oldest line kept (lines before it were dropped). */
    long first() {
        return first;
    }

    /** The number the next line will get. */
    long end() {
        return first + size;
    }

    /** Line number {@code n}, which must lie in [{@link #first()}, {@link #end()}). */
    String get(long n) {
        return ring[(int) (n & (ring.length - 1))];
    }

    /** The kept lines from number {@code from} on (from the oldest kept, if that is later). */
    List<String> from(long from) {
        List<String> out = new ArrayList<>();
        for (long i = Math.max(from, first); i < end(); i++) {
            out.add(get(i));
        }
        return out;
    }
}
