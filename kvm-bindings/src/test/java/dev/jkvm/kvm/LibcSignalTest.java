package dev.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.LibcConstants;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link Libc#ignoreSignal} goes to rt_sigaction with a struct of its own making: the kernel must take it. */
class LibcSignalTest {

    /** The process's ignored signals, as the kernel reports them. */
    private static BigInteger ignored() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                return new BigInteger(line.substring(7).strip(), 16);
            }
        }
        throw new AssertionError("no SigIgn line in /proc/self/status");
    }

    @Test
    void anIgnoredSignalShowsInTheKernelsMaskAndIsDroppedWhenSent() throws Exception {
        int signal = LibcConstants.SIGRTMIN + 6; // not the kick signal: this JVM may run vCPUs
        assertFalse(ignored().testBit(signal - 1), "ignored before the test");
        Libc.ignoreSignal(signal);
        assertTrue(ignored().testBit(signal - 1), "SigIgn after ignoreSignal");
        // sent to this process, an ignored real-time signal is dropped instead of ending it
        new ProcessBuilder("kill", "-" + signal, Long.toString(ProcessHandle.current().pid())).start().waitFor();
        Libc.ignoreSignal(signal); // again: a second call changes nothing
        assertEquals(true, ignored().testBit(signal - 1));
    }
}
