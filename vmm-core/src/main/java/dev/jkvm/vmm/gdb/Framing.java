package dev.jkvm.vmm.gdb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Outgoing packet framing of the remote serial protocol: {@code $payload#cs} with the checksum
 * (sum of the payload bytes mod 256, two hex digits), optional run-length encoding, and the binary
 * escape ({@code '}'} then the byte xor 0x20) for the four bytes that cannot appear in a payload.
 *
 * <p>Payloads are Java strings holding one byte per char (ISO-8859-1), so binary data passes
 * through unchanged.
 *
 * <pre>{@code
 * Framing.frame("OK", false)   // "$OK#9a" as bytes
 * Framing.escape("a#b")        // "a}\u0003b"
 * }</pre>
 */
final class Framing {

    static final char ESCAPE = '}';
    static final char RUN = '*';
    /** A run count is sent as the char {@code count + 29}; these counts would be '#' and '$'. */
    private static final int RUN_OFFSET = 29;
    private static final int MIN_RUN = 3;
    private static final int MAX_RUN = 126 - RUN_OFFSET;

    private Framing() {
    }

    /** The sum of the payload bytes mod 256. */
    static int checksum(CharSequence payload) {
        int sum = 0;
        for (int i = 0; i < payload.length(); i++) {
            sum += payload.charAt(i) & 0xff;
        }
        return sum & 0xff;
    }

    /** Whether a byte must be escaped inside a payload. */
    static boolean mustEscape(int b) {
        return b == '#' || b == '$' || b == ESCAPE || b == RUN;
    }

    /** Escapes binary data (one byte per char) for a payload. */
    static String escape(String binary) {
        StringBuilder out = new StringBuilder(binary.length() + 8);
        for (int i = 0; i < binary.length(); i++) {
            char c = binary.charAt(i);
            if (mustEscape(c)) {
                out.append(ESCAPE).append((char) (c ^ 0x20));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Undoes {@link #escape}; throws {@link IllegalArgumentException} on a trailing escape char. */
    static byte[] unescape(String escaped) {
        byte[] out = new byte[escaped.length()];
        int n = 0;
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c == ESCAPE) {
                if (++i == escaped.length()) {
                    throw new IllegalArgumentException("escape char at the end of binary data");
                }
                c = (char) (escaped.charAt(i) ^ 0x20);
            }
            out[n++] = (byte) c;
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * Run-length encodes a payload: a run of 4 or more equal chars becomes the char, '*' and the
     * count of repeats + 29. Never starts a run on an escaped byte (gdb repeats the raw char, and
     * the escape must stay a pair), and never produces a count char of '#' or '$'.
     */
    static String runLengthEncode(String payload) {
        StringBuilder out = new StringBuilder(payload.length());
        int i = 0;
        while (i < payload.length()) {
            char c = payload.charAt(i);
            if (c == ESCAPE && i + 1 < payload.length()) {
                out.append(c).append(payload.charAt(i + 1));
                i += 2;
                continue;
            }
            int run = 1;
            while (i + run < payload.length() && payload.charAt(i + run) == c && run - 1 < MAX_RUN) {
                run++;
            }
            int repeats = run - 1;
            if (repeats == '#' - RUN_OFFSET || repeats == '$' - RUN_OFFSET) {
                repeats = '#' - RUN_OFFSET - 1;
            }
            out.append(c);
            if (repeats >= MIN_RUN) {
                out.append(RUN).append((char) (repeats + RUN_OFFSET));
                i += repeats + 1;
            } else {
                i++;
            }
        }
        return out.toString();
    }

    /** The bytes of {@code $payload#cs}, run-length encoded when {@code compress}. */
    static byte[] frame(String payload, boolean compress) {
        String body = compress ? runLengthEncode(payload) : payload;
        String framed = "$" + body + "#" + Hex.number(checksum(body), 2);
        return framed.getBytes(StandardCharsets.ISO_8859_1);
    }
}
