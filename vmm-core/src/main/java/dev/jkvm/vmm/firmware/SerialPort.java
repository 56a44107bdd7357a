package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.board.Layout;

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

    public static final SerialPort COM1 = com(0);
    public static final SerialPort COM2 = com(1);
    public static final SerialPort COM3 = com(2);
    public static final SerialPort COM4 = com(3);

    /** How many ports a 16550 decodes. */
    public static final int PORT_COUNT = Layout.COM_PORTS;

    public SerialPort {
        if (base <= 0 || base + PORT_COUNT > 0x10000 || irq < 0 || irq > 15) {
            throw new IllegalArgumentException("invalid serial port: base 0x" + Integer.toHexString(base) + " IRQ " + irq);
        }
    }

    /** COM{@code n + 1} where {@link Layout} puts it. */
    public static SerialPort com(int n) {
        return new SerialPort(Layout.comBase(n), Layout.comIrq(n));
    }
}
