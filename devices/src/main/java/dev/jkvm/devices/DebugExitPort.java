package dev.jkvm.devices;

import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * QEMU's {@code isa-debug-exit}: a port through which a guest ends the run with a status of its
 * choosing, which is how test kernels and unit-test guests report pass/fail.
 *
 * <p>A write of value {@code v} (1, 2 or 4 bytes, at any offset) requests the end of the run with
 * status {@code (v << 1) | 1}, exactly as QEMU computes it, so guests written for
 * {@code -device isa-debug-exit,iobase=0xf4,iosize=0x04} work unchanged (and a guest can never
 * produce status 0, which keeps "the guest said so" apart from a clean VMM exit). The status is
 * computed in 32 bits; a host process exit status keeps only the low 8 bits anyway. The device does
 * not stop anything itself: it hands the status to the {@link IntConsumer} given at construction and
 * the machine decides what "end" means (stop the vCPUs, exit the process).
 *
 * <p>Reads return 0, as QEMU's device does.
 */
public final class DebugExitPort implements PortIoDevice {

    /** The base port guests conventionally use ({@code iobase=0xf4}). */
    public static final int DEFAULT_IOBASE = 0xf4;
    /** Ports claimed by default. */
    public static final int DEFAULT_IOSIZE = 1;

    private final IntConsumer exitRequest;

    /** @param exitRequest told the exit status for every guest write, on the vCPU thread */
    public DebugExitPort(IntConsumer exitRequest) {
        this.exitRequest = Objects.requireNonNull(exitRequest, "exitRequest");
    }

    /** The exit status QEMU derives from a written value: {@code (value << 1) | 1}. */
    public static int exitStatus(int value) {
        return (value << 1) | 1;
    }

    @Override
    public int read(int offset, int size) {
        return 0;
    }

    @Override
    public void write(int offset, int size, int value) {
        int v = switch (size) {
            case 1 -> value & 0xff;
            case 2 -> value & 0xffff;
            default -> value;
        };
        exitRequest.accept(exitStatus(v));
    }

    @Override
    public String name() {
        return "isa-debug-exit";
    }
}
