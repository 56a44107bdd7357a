package dev.jkvm.devices;

/**
 * A device on the x86 port-I/O space.
 *
 * <p>The {@link PortBus} calls these methods on the vCPU thread that took the exit, with the
 * offset of the accessed port from the base the device was registered at, so one model can sit
 * at several bases (COM1 at 0x3f8, COM2 at 0x2f8). Implementations must not allocate on this
 * path: it runs once per guest {@code in}/{@code out}.
 *
 * <pre>{@code
 * bus.register(0x3f8, 8, new Uart16550(System.out, irq4));
 * int lsr = bus.read(0x3fd, 1); // -> uart.read(5, 1)
 * }</pre>
 */
public interface PortIoDevice {

    /**
     * Reads {@code size} bytes (1, 2 or 4) at {@code offset}.
     *
     * @return the value in the low {@code 8 * size} bits; higher bits are ignored by the bus
     */
    int read(int offset, int size);

    /** Writes the low {@code 8 * size} bits of {@code value} at {@code offset}. */
    void write(int offset, int size, int value);

    /** A short name for listings ({@code info devices}) and logs. */
    default String name() {
        return getClass().getSimpleName();
    }

    /**
     * One line of state for the monitor's {@code info devices}, e.g.
     * {@code "cmos-rtc: index=0x0b nmi=masked B=02 C=00 time=2025-01-02 03:04:05"}. Reading it must not
     * change guest-visible state. The machine prefixes the ports (from the bus registration) and the
     * IRQ, which a device does not know. The default is {@link #name()}.
     */
    default String describe() {
        return name();
    }
}
