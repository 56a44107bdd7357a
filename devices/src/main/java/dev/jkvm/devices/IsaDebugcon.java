package dev.jkvm.devices;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/**
 * QEMU's {@code isa-debugcon}: a one-port console (Bochs' "port E9 hack"). Every byte written goes
 * to the backend; a read returns the {@code readback} value (QEMU's default 0xe9, which is how
 * firmware such as SeaBIOS detects the port before logging to it). A wider write sends its low byte
 * only, as QEMU's device does.
 *
 * <pre>{@code
 * bus.register(0x402, 1, new IsaDebugcon(logStream, 0xe9));   // -device isa-debugcon,iobase=0x402
 * }</pre>
 */
public final class IsaDebugcon implements PortIoDevice {

    /** The port Bochs and QEMU use by default. */
    public static final int DEFAULT_IOBASE = 0xe9;
    /** What a read returns by default (QEMU's {@code readback} property). */
    public static final int DEFAULT_READBACK = 0xe9;

    private final OutputStream out;
    private final int readback;
    private long written;

    /** @param out receives each byte; it must not block (the caller gives a buffered, dropping sink) */
    public IsaDebugcon(OutputStream out, int readback) {
        this.out = Objects.requireNonNull(out, "out");
        this.readback = readback;
    }

    @Override
    public int read(int offset, int size) {
        return readback;
    }

    @Override
    public void write(int offset, int size, int value) {
        try {
            out.write(value & 0xff);
            written++;
        } catch (IOException e) {
            // a lost log byte must not stop the guest
        }
    }

    @Override
    public String name() {
        return "isa-debugcon";
    }

    @Override
    public String describe() {
        return String.format("isa-debugcon: readback=0x%02x written=%d", readback, written);
    }
}
