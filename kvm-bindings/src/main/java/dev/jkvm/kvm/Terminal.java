package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The controlling terminal's mode, for a serial console on standard input: {@link #makeRaw} puts
 * it in raw mode (every key goes to the guest at once, Ctrl-C included, no echo) and returns what
 * restores it. The {@code struct termios} is kept opaque: glibc's {@code cfmakeraw} edits it.
 */
public final class Terminal {

    /** glibc's {@code sizeof(struct termios)} on x86-64 is 60; a larger buffer is harmless. */
    private static final long TERMIOS_BYTES = 128;
    private static final int TCSANOW = 0;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle ISATTY = find("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle TCGETATTR = find("tcgetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle TCSETATTR = find("tcsetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle CFMAKERAW = find("cfmakeraw", FunctionDescriptor.ofVoid(ADDRESS));

    private Terminal() {
    }

    private static MethodHandle find(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    /** Whether {@code fd} is a terminal. */
    public static boolean isTerminal(int fd) {
        try {
            return (int) ISATTY.invokeExact(fd) == 1;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Puts terminal {@code fd} in raw mode.
     *
     * @return what restores the previous mode (call it on every way out), or a no-op when
     *     {@code fd} is not a terminal
     */
    public static Runnable makeRaw(int fd) {
        if (!isTerminal(fd)) {
            return () -> { };
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment saved = arena.allocate(TERMIOS_BYTES, 8);
            if ((int) TCGETATTR.invokeExact(fd, saved) != 0) {
                arena.close();
                return () -> { };
            }
            MemorySegment raw = arena.allocate(TERMIOS_BYTES, 8);
            raw.copyFrom(saved);
            CFMAKERAW.invokeExact(raw);
            int ignored = (int) TCSETATTR.invokeExact(fd, TCSANOW, raw);
            return () -> {
                try {
                    int rc = (int) TCSETATTR.invokeExact(fd, TCSANOW, saved);
                } catch (Throwable t) {
                    // nothing more to do on the way out
                }
            };
        } catch (Throwable t) {
            arena.close();
            return () -> { };
        }
    }
}
