package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
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

    /** glibc's termios calls, linked on first use: a run whose stdin is no terminal links none of them. */
    private static final class Tcgetattr {
        static final MethodHandle H = Libc.downcall("tcgetattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    }

    private static final class Tcsetattr {
        static final MethodHandle H = Libc.downcall("tcsetattr", Libc.INT_OF_INT_INT_LONG);
    }

    private static final class Cfmakeraw {
        static final MethodHandle H = Libc.downcall("cfmakeraw", Libc.VOID_OF_LONG);
    }

    private Terminal() {
    }

    /** Whether {@code fd} is a terminal. */
    public static boolean isTerminal(int fd) {
        return Libc.isTerminal(fd);
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
        MemorySegment capture = Libc.newErrnoCapture(arena);
        try {
            MemorySegment saved = arena.allocate(TERMIOS_BYTES, 8);
            if ((int) Tcgetattr.H.invokeExact(capture, fd, saved.address()) != 0) {
                arena.close();
                return () -> { };
            }
            MemorySegment raw = arena.allocate(TERMIOS_BYTES, 8);
            raw.copyFrom(saved);
            Cfmakeraw.H.invokeExact(capture, raw.address());
            int ignored = (int) Tcsetattr.H.invokeExact(capture, fd, TCSANOW, raw.address());
            return () -> {
                try {
                    int rc = (int) Tcsetattr.H.invokeExact(capture, fd, TCSANOW, saved.address());
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
