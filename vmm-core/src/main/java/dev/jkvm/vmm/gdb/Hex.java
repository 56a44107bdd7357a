package dev.jkvm.vmm.gdb;

import java.nio.charset.StandardCharsets;

/**
 * The hex spellings the remote protocol uses: bytes as two lowercase digits each, numbers as bare
 * big-endian digits, register values as little-endian bytes.
 *
 * <pre>{@code
 * Hex.bytes(new byte[] {1, (byte) 0xab})   // "01ab"
 * Hex.number("ffffffff81000000")           // 0xffffffff81000000L
 * }</pre>
 */
final class Hex {

    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {
    }

    /** Two lowercase digits per byte. */
    static String bytes(byte[] data) {
        return bytes(data, 0, data.length);
    }

    /** Two lowercase digits per byte of {@code data[from, from + length)}. */
    static String bytes(byte[] data, int from, int length) {
        StringBuilder out = new StringBuilder(length * 2);
        for (int i = from; i < from + length; i++) {
            out.append(DIGITS[(data[i] >> 4) & 0xf]).append(DIGITS[data[i] & 0xf]);
        }
        return out.toString();
    }

    /** The bytes an even-length string of hex digits spells; throws {@link IllegalArgumentException} otherwise. */
    static byte[] toBytes(String hex) {
        if (hex.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits");
        }
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (digit(hex.charAt(2 * i)) << 4 | digit(hex.charAt(2 * i + 1)));
        }
        return out;
    }

    /** An unsigned number of up to 16 hex digits ("-1" is accepted as all ones, as gdb sends for "all threads"). */
    static long number(String hex) {
        if (hex.equals("-1")) {
            return -1;
        }
        if (hex.isEmpty() || hex.length() > 16) {
            throw new IllegalArgumentException("bad hex number '" + hex + "'");
        }
        long value = 0;
        for (int i = 0; i < hex.length(); i++) {
            value = value << 4 | digit(hex.charAt(i));
        }
        return value;
    }

    /** A number as bare lowercase hex digits, at least {@code minDigits} long. */
    static String number(long value, int minDigits) {
        String s = Long.toHexString(value);
        return s.length() >= minDigits ? s : "0".repeat(minDigits - s.length()) + s;
    }

    /** Text as the hex of its UTF-8 bytes, as qRcmd and O packets carry it. */
    static String text(String s) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static int digit(char c) {
        int d = Character.digit(c, 16);
        if (d < 0) {
            throw new IllegalArgumentException("bad hex digit '" + c + "'");
        }
        return d;
    }
}
