package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.board.Layout;

/**
 * The machine's I/O APIC as the MP table and the MADT describe it.
 *
 * <pre>{@code
 * IoApic.PC;   // ID 0 at Layout.IO_APIC (0xFEC00000), GSIs 0..23, version 0x11
 * }</pre>
 *
 * @param id its APIC ID; 0 matches the ID register of KVM's in-kernel I/O APIC after reset, as QEMU
 *     and SeaBIOS describe it, so no guest has to renumber it
 * @param address the physical address of its register window
 * @param gsiBase the first global system interrupt its pins deliver
 * @param pins how many input pins (redirection entries) it has
 * @param version the value of its version register's low byte
 */
public record IoApic(int id, long address, int gsiBase, int pins, int version) {

    /** The I/O APIC of a PC, as KVM's in-kernel irqchip emulates it. */
    public static final IoApic PC = new IoApic(0, Layout.IO_APIC, 0, Layout.IO_APIC_PINS, 0x11);

    public IoApic {
        if (id < 0 || id > 0xFE || (address & 0xFFF) != 0 || address < 0 || address > 0xFFFF_FFFFL
                || gsiBase < 0 || pins < 1 || pins > 240 || version < 0 || version > 0xFF) {
            throw new IllegalArgumentException("invalid I/O APIC: id=" + id + " address=0x" + Long.toHexString(address)
                    + " gsiBase=" + gsiBase + " pins=" + pins + " version=" + version);
        }
    }

    /** Whether global system interrupt {@code gsi} is one of its pins. */
    public boolean serves(int gsi) {
        return gsi >= gsiBase && gsi < gsiBase + pins;
    }
}
