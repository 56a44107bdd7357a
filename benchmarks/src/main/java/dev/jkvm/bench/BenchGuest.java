package dev.jkvm.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * The contract with {@code guest-images/src/bench-exits/bench-exits.s} and {@code bench-smp.s}:
 * case numbers and where the parameters and results sit in RAM. Both VMMs (jkvm and the C
 * baseline) fill in the same words, so they run the very same instructions.
 *
 * <pre>{@code
 * Path rom = BenchGuest.extract("bench-exits", dir);   // the bundled image as a file both VMMs load
 * }</pre>
 */
public final class BenchGuest {

    /** bench-exits: the case word, N, and the results (see the ROM's source). */
    public static final long PARAM_CASE = 0x8000;
    public static final long PARAM_N = 0x8004;
    public static final long RESULT_TSC = 0x8010;
    public static final long RESULT_DONE = 0x8018;
    public static final int DONE_MAGIC = 0x600dd00e;

    /** bench-exits cases. */
    public static final int HALT_AT_ONCE = 0;
    public static final int PORT_OUT = 1;
    public static final int PORT_IN = 2;
    public static final int MMIO_WRITE = 3;
    public static final int MMIO_READ = 4;
    public static final int HLT = 5;
    public static final int CPUID = 6;
    public static final int PIT_IN = 7;
    public static final int EMPTY_LOOP = 8;

    /** bench-smp: the shared counter and the per-vCPU progress counters (64 bytes apart). */
    public static final long SMP_SHARED = 0x9004;
    public static final long SMP_PROGRESS = 0x9040;
    public static final int SMP_STRIDE = 64;

    /** Where the guest wrote 0 to end the run: the isa-debug-exit port's status for value 0. */
    public static final int DEBUG_EXIT_ZERO_STATUS = 1;

    private BenchGuest() {
    }

    /**
     * Copies the bundled ROM {@code name} (module guest-images) to {@code dir/name.rom}, so that jkvm
     * and the C VMM load the same file.
     */
    public static Path extract(String name, Path dir) {
        return extractFile(name + ".rom", dir);
    }

    /** Copies the bundled image {@code file} ({@code mb-exit.elf}, {@code hello.rom}) to {@code dir/file}. */
    public static Path extractFile(String file, Path dir) {
        String name = file;
        try (InputStream in = BenchGuest.class.getResourceAsStream("/dev/jkvm/guest/" + file)) {
            if (in == null) {
                throw new IllegalStateException("no bundled guest image " + name + " (is guest-images built?)");
            }
            Files.createDirectories(dir);
            Path out = dir.resolve(file);
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A little-endian u32 as the guest reads it. */
    static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    static long le64(byte[] b) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    static int le32(byte[] b) {
        return (int) (le64(Arrays.copyOf(b, 8)) & 0xffff_ffffL);
    }
}
