package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.memory.MemoryMap;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/** QEMU's size syntax: {@code N[K|M|G|T]} with an optional fraction; what a bare number means is the caller's. */
public final class Sizes {

    /** The least RAM jkvm gives a guest: the legacy area plus 1 MiB of extended memory. */
    public static final long MIN_RAM = 2 * MemoryMap.MIB;
    /** The most: 1 TiB, what a 40-bit guest-physical address space (QEMU's default) can hold. */
    public static final long MAX_RAM = 1L << 40;

    private Sizes() {
    }

    /**
     * {@code -m [size=]N[K|M|G|T]}: a bare number is MiB, as in QEMU; the result is rounded up to
     * a page.
     *
     * @throws JkvmException for zero, garbage, or a size outside [{@link #MIN_RAM}, {@link #MAX_RAM}]
     */
    public static long parseMemory(String text) {
        String value = text.startsWith("size=") ? text.substring(5) : text;
        int comma = value.indexOf(',');
        if (comma >= 0) {
            throw new JkvmException("-m " + text + ": only the size is supported (no slots= or maxmem=)");
        }
        long bytes = parse(value, MemoryMap.MIB);
        if (bytes < 0) {
            throw new JkvmException("-m " + text + ": invalid RAM size (use N[K|M|G|T]; a bare number is MiB)");
        }
        if (bytes < MIN_RAM) {
            throw new JkvmException("-m " + text + ": RAM size must be at least " + MIN_RAM / MemoryMap.MIB + " MiB");
        }
        if (bytes > MAX_RAM) {
            throw new JkvmException("-m " + text + ": RAM size is larger than the 1 TiB a guest can address");
        }
        return (bytes + MemoryMap.PAGE - 1) & -MemoryMap.PAGE;
    }

    /**
     * Parses {@code N[K|M|G|T]} ({@code B} for bytes), with {@code bareUnit} as the unit of a number
     * without a suffix; returns -1 for anything else, including overflow.
     */
    public static long parse(String value, long bareUnit) {
        if (value.isEmpty()) {
            return -1;
        }
        char last = Character.toUpperCase(value.charAt(value.length() - 1));
        long unit = switch (last) {
            case 'B' -> 1;
            case 'K' -> MemoryMap.KIB;
            case 'M' -> MemoryMap.MIB;
            case 'G' -> MemoryMap.GIB;
            case 'T' -> MemoryMap.GIB * 1024;
            default -> 0;
        };
        String number = unit == 0 ? value : value.substring(0, value.length() - 1);
        if (unit == 0) {
            unit = bareUnit;
        }
        if (!isDecimal(number)) {
            return -1;
        }
        if (number.indexOf('.') < 0 && number.length() <= 15) { // a whole number (most -m): no BigDecimal to load
            try {
                return Math.multiplyExact(Long.parseLong(number), unit);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        try {
            return new BigDecimal(number).multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.UP)
                    .longValueExact();
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** A size for people: {@code 128 MiB}, {@code 1.5 GiB}. */
    public static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = 0;
        while (v >= 1024 && i < units.length - 1 && v % 1024 == 0) {
            v /= 1024;
            i++;
        }
        if (v >= 1024 && i < units.length - 1) {
            return String.format(Locale.ROOT, "%.1f %s", v / 1024, units[i + 1]);
        }
        return String.format(Locale.ROOT, "%d %s", (long) v, units[i]);
    }

    /** {@code [0-9]+(\.[0-9]+)?}, read by hand: -m is on most command lines, and a regular expression costs start-up ~3 ms. */
    private static boolean isDecimal(String s) {
        int dot = s.indexOf('.');
        String whole = dot < 0 ? s : s.substring(0, dot);
        String fraction = dot < 0 ? "1" : s.substring(dot + 1);
        return allDigits(whole) && allDigits(fraction);
    }

    private static boolean allDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
