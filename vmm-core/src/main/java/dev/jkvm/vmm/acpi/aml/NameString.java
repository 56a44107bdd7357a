package dev.jkvm.vmm.acpi.aml;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * AML NameString encoding of an ASL path: an optional root ({@code \}) or parent prefixes
 * ({@code ^}), then the 4-character segments separated by dots, each padded with {@code _}: one
 * segment as is, two behind DualNamePrefix (0x2E), more behind MultiNamePrefix (0x2F) and a count,
 * none as NullName (0x00).
 *
 * <pre>{@code
 * NameString.encode("\\_SB.PCI0");   // 5C 2E "_SB_" "PCI0"
 * NameString.encode("_S5");          // "_S5_"
 * }</pre>
 */
public final class NameString {

    static final int ROOT = 0x5C;
    static final int PARENT = 0x5E;
    static final int DUAL_NAME = 0x2E;
    static final int MULTI_NAME = 0x2F;
    static final int NULL_NAME = 0x00;

    private NameString() {
    }

    public static byte[] encode(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT);
                i++;
            }
        }
        String rest = path.substring(i);
        List<String> segments = new ArrayList<>();
        if (!rest.isEmpty()) {
            for (String s : rest.split("\\.", -1)) {
                segments.add(segment(s, path));
            }
        }
        switch (segments.size()) {
            case 0 -> out.write(NULL_NAME);
            case 1 -> {
            }
            case 2 -> out.write(DUAL_NAME);
            default -> {
                if (segments.size() > 255) {
                    throw new IllegalArgumentException("AML path with more than 255 segments: " + path);
                }
                out.write(MULTI_NAME);
                out.write(segments.size());
            }
        }
        for (String s : segments) {
            out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    /** One NameSeg: a leading A-Z or _, then A-Z, 0-9 or _, 1 to 4 characters, padded with _. */
    static String segment(String s, String path) {
        if (s.isEmpty() || s.length() > 4) {
            throw new IllegalArgumentException("bad AML name segment \"" + s + "\" in \"" + path + "\"");
        }
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            boolean ok = c >= 'A' && c <= 'Z' || c == '_' || k > 0 && c >= '0' && c <= '9';
            if (!ok) {
                throw new IllegalArgumentException("bad AML name segment \"" + s + "\" in \"" + path + "\"");
            }
        }
        return (s + "___").substring(0, 4);
    }
}
