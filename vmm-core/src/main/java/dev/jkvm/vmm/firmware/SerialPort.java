package dev.jkvm.vmm.firmware;

/**
 * A 16550 UART on the ISA bus, described to the guest as a PNP0501 device.
 *
 * <pre>{@code
 * List.of(SerialPort.COM1, SerialPort.COM2);
 * }</pre>
 *
 * @param base its first I/O port (it decodes 8)
 * @param irq its ISA IRQ
 */
public record SerialPort(int base, int irq) {

    public static final SerialPort COM1 = new SerialPort(0x3f8, 4);
    public static final SerialPort COM2 = new SerialPort(0x2f8, 3);
    public static final SerialPort COM3 = new SerialPort(0x3e8, 4);
    public static final SerialPort COM4 = new SerialPort(0x2e8, 3);

    /** How many ports a 16550 decodes. */
    public static final int PORT_COUNT = 8;

    public SerialPort {
        if (base <= 0 || base + PORT_COUNT > 0x10000 || irq < 0 || irq > 15) {
            throw new IllegalArgumentException("invalid serial port: base 0x" + Integer.toHexString(base) + " IRQ " + irq);
        }
    }
}
