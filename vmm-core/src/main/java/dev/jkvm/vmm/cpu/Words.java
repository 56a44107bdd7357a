package dev.jkvm.vmm.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Whitespace-separated words, split without a regular expression: {@code String.split("\\s+")}
 * compiles its pattern on every call, and the CPU tables split a few thousand times while
 * start-up still runs interpreted.
 */
final class Words {

    private Words() {
    }

    /** The words of {@code text}; none for blank text. */
    static List<String> of(String text) {
        List<String> words = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i > start) {
                words.add(text.substring(start, i));
            }
        }
        return words;
    }

    /** The lines of {@code text} (split at '\n', a '\r' before it dropped), without a stream. */
    static List<String> lines(String text) {
        List<String> lines = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = text.indexOf('\n', i);
            int next = end < 0 ? text.length() : end + 1;
            end = end < 0 ? text.length() : end;
            if (end > i && text.charAt(end - 1) == '\r') {
                end--;
            }
            lines.add(text.substring(i, end));
            i = next;
        }
        return lines;
    }
}
