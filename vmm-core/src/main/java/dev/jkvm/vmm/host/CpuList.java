package dev.jkvm.vmm.host;

import java.util.BitSet;
import java.util.StringJoiner;

/**
 * The kernel's CPU list syntax ({@code 0-3,8,10-11}), as in {@code /sys/devices/system/cpu/isolated}
 * and in {@code taskset -c}; also inside jkvm's {@code -vcpu-affinity 0@[2-3]}.
 */
public final class CpuList {

    private CpuList() {
    }

    /**
     * Parses a list; empty text is the empty set.
     *
     * @throws IllegalArgumentException naming the bad part
     */
    public static BitSet parse(String text) {
        BitSet set = new BitSet();
        if (text.isBlank()) {
            return set;
        }
        for (String part : text.split(",")) {
            String p = part.strip();
            try {
                int dash = p.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? p : p.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(p.substring(dash + 1));
                if (from < 0 || to < from || to > 4095) {
                    throw new NumberFormatException();
                }
                set.set(from, to + 1);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + p + "' is not a CPU number or range");
            }
        }
        return set;
    }

    /** Formats a set in the same syntax, with ranges ({@code 0-3,8}); {@code none} when empty. */
    public static String format(BitSet set) {
        if (set.isEmpty()) {
            return "none";
        }
        StringJoiner j = new StringJoiner(",");
        for (int i = set.nextSetBit(0); i >= 0; ) {
            int end = set.nextClearBit(i) - 1;
            j.add(end == i ? Integer.toString(i) : i + "-" + end);
            i = set.nextSetBit(end + 1);
        }
        return j.toString();
    }
}
