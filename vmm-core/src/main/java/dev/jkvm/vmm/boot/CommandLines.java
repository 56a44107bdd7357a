package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.board.Layout;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The strings a loader hands the kernel (command lines, module arguments, its own name), packed
 * NUL-terminated one after another from {@link Layout#BOOT_COMMAND_LINES}, planned before anything
 * is written.
 */
final class CommandLines {

    static final long CAPACITY = Layout.BOOT_DATA_END - Layout.BOOT_COMMAND_LINES;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final long base;

    /** Strings at {@link Layout#BOOT_COMMAND_LINES}. */
    CommandLines() {
        this(Layout.BOOT_COMMAND_LINES);
    }

    /** Strings from {@code base} (a loader that had to move them away from the kernel). */
    CommandLines(long base) {
        this.base = base;
    }

    /** Adds {@code s} (UTF-8, NUL-terminated); returns its guest-physical address. */
    long add(String s) {
        long at = base + bytes.size();
        bytes.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        bytes.write(0);
        return at;
    }

    /** The bytes a string takes, without its NUL. */
    static int length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Bytes used so far, NULs included. */
    long size() {
        return bytes.size();
    }

    /** Whether everything added fits in the area. */
    boolean fits() {
        return bytes.size() <= CAPACITY;
    }

    byte[] bytes() {
        return bytes.toByteArray();
    }
}
