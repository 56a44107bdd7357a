package dev.jkvm.vmm;

import dev.jkvm.vmm.chardev.ChardevSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The optional devices of a machine, added with {@code -device} (and {@code -debugcon}): QEMU's test
 * devices and debug consoles. The PC's fixed devices (serial ports, CMOS, i8042, isa-debug-exit, ...)
 * are always there and are not listed here.
 *
 * @param pcTestdev QEMU's {@code pc-testdev} ({@code -device pc-testdev})
 * @param pciTestdev QEMU's {@code pci-testdev} at 00:02.0 ({@code -device pci-testdev})
 * @param debugcons {@code -device isa-debugcon,iobase=N,chardev=ID} and {@code -debugcon DEV}
 */
public record Peripherals(boolean pcTestdev, boolean pciTestdev, List<Debugcon> debugcons) {

    /** No optional device. */
    public static final Peripherals NONE = new Peripherals(false, false, List.of());

    public Peripherals {
        debugcons = List.copyOf(debugcons);
    }

    /** One isa-debugcon: its port, what reads return, and where its bytes go. */
    public record Debugcon(int iobase, int readback, ChardevSpec backend) {
        public Debugcon {
            Objects.requireNonNull(backend, "backend");
            if (iobase < 0 || iobase > 0xffff) {
                throw new IllegalArgumentException("isa-debugcon: iobase 0x" + Integer.toHexString(iobase) + " is not a port");
            }
        }
    }

    /** With QEMU's pc-testdev. */
    public Peripherals withPcTestdev() {
        return new Peripherals(true, pciTestdev, debugcons);
    }

    /** With QEMU's pci-testdev. */
    public Peripherals withPciTestdev() {
        return new Peripherals(pcTestdev, true, debugcons);
    }

    /** With one more debug console. */
    public Peripherals withDebugcon(Debugcon d) {
        List<Debugcon> all = new ArrayList<>(debugcons);
        all.add(d);
        return new Peripherals(pcTestdev, pciTestdev, all);
    }
}
