package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.acpi.aml.Aml;
import dev.jkvm.vmm.acpi.aml.ResourceTemplate;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.ByteWriter;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.SerialPort;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Differentiated System Description Table: the AML namespace of the machine. In ASL:
 *
 * <pre>
 * DefinitionBlock ("", "DSDT", 2, "JKVM  ", "JKVMDSDT", 1) {
 *     Name (\_S3, Package (4) {1, 1, 0, 0})         // only when S3 is offered
 *     Name (\_S5, Package (4) {0, 0, 0, 0})
 *     Scope (\_SB) {
 *         Device (PCI0) { _HID PNP0A03, _UID 0, _CRS: buses 0-255, ports 0xcf8-0xcff,
 *                         I/O windows 0-0xcf7 and 0xd00-0xffff, VGA window 0xa0000-0xbffff,
 *                         the 32-bit hole from the top of low RAM to the I/O APIC }
 *         Device (C000) { Name (_HID, "ACPI0007") Name (_UID, 0) Method (_STA) { Return (0x0F) } }
 *         ...                                       // one per possible vCPU; _STA 0 if not running
 *         Device (COM1) { _HID PNP0501, _UID 1, _CRS IO(0x3f8, 8) IRQNoFlags {4} }
 *         Device (RTC_) { _HID PNP0B00, _CRS IO(0x70, 2) IRQNoFlags {8} }
 *         Device (KBD_) { _HID PNP0303, _CRS IO(0x60, 1) IO(0x64, 1) IRQNoFlags {1} }   // with an 8042
 *     }
 * }
 * </pre>
 *
 * The ISA devices sit directly under {@code \_SB} (there is no LPC bridge to hang them under) so
 * they do not depend on the PCI host bridge being described.
 *
 * <p>Processors not running at start have {@code _STA} 0 (not present): jkvm has no CPU hotplug
 * controller to bring them in, so nothing would ever change it. Their MADT entries are Online
 * Capable, so a guest still counts them as possible CPUs.
 */
final class Dsdt {

    static final int REVISION = 2; // 64-bit AML integers
    static final int STA_PRESENT = 0x0F; // present, enabled, shown in UI, functioning

    private Dsdt() {
    }

    static byte[] build(PlatformDescription p) {
        ByteWriter w = SdtHeader.begin("DSDT", REVISION);
        w.bytes(body(p).bytes());
        return SdtHeader.finish(w);
    }

    static Aml body(PlatformDescription p) {
        List<Aml> root = new ArrayList<>();
        if (p.s3()) {
            root.add(sleepPackage("\\_S3", SleepState.S3));
        }
        root.add(sleepPackage("\\_S5", SleepState.S5));

        List<Aml> sb = new ArrayList<>();
        if (p.pciHostBridge()) {
            sb.add(pciHostBridge(p.memory()));
        }
        Topology t = p.topology();
        for (int i = 0; i < t.maxCpus(); i++) {
            sb.add(processor(i, i < t.cpus()));
        }
        List<SerialPort> serial = p.serialPorts();
        for (int i = 0; i < serial.size(); i++) {
            sb.add(serialPort(i, serial.get(i)));
        }
        sb.add(Aml.device("RTC_",
                Aml.name("_HID", Aml.eisaId("PNP0B00")),
                Aml.name("_CRS", new ResourceTemplate().io(Layout.CMOS, Layout.CMOS, 0x01, Layout.CMOS_PORTS)
                        .irqNoFlags(Layout.RTC_IRQ).toAml())));
        if (p.i8042()) {
            sb.add(Aml.device("KBD_",
                    Aml.name("_HID", Aml.eisaId("PNP0303")),
                    Aml.name("_CRS", new ResourceTemplate().io(Layout.I8042_DATA, Layout.I8042_DATA, 0x01, 0x01)
                            .io(Layout.I8042_COMMAND, Layout.I8042_COMMAND, 0x01, 0x01)
                            .irqNoFlags(Layout.KEYBOARD_IRQ).toAml())));
        }
        root.add(Aml.scope("\\_SB", sb));
        return Aml.of(root);
    }

    /** {@code Name(\_Sx, Package(4) {SLP_TYPa, SLP_TYPb, 0, 0})}: there is no PM1b, so b repeats a. */
    static Aml sleepPackage(String name, SleepState s) {
        return Aml.name(name, Aml.packageOf(Aml.integer(s.slpTyp()), Aml.integer(s.slpTyp()), Aml.integer(0),
                Aml.integer(0)));
    }

    /** The device name of processor {@code index}: C000 to CFFF. */
    static String processorName(int index) {
        if (index > 0xFFF) {
            throw new IllegalArgumentException("more than 4096 processors");
        }
        // "C%03X" by hand: a format string costs start-up ~5 ms interpreted the first time
        String hex = Integer.toHexString(index).toUpperCase(Locale.ROOT);
        return "C" + "000".substring(Math.min(3, hex.length())) + hex;
    }

    static Aml processor(int index, boolean running) {
        return Aml.device(processorName(index),
                Aml.name("_HID", Aml.string("ACPI0007")),
                Aml.name("_UID", Aml.integer(index)),
                Aml.method("_STA", Aml.returnOf(Aml.integer(running ? STA_PRESENT : 0))));
    }

    static String serialName(int index) {
        if (index >= 99) {
            throw new IllegalArgumentException("more than 99 serial ports");
        }
        return index < 9 ? "COM" + (index + 1) : "CM" + (index + 1);
    }

    static Aml serialPort(int index, SerialPort port) {
        return Aml.device(serialName(index),
                Aml.name("_HID", Aml.eisaId("PNP0501")),
                Aml.name("_UID", Aml.integer(index + 1)),
                Aml.name("_CRS", new ResourceTemplate().io(port.base(), port.base(), 0x01, SerialPort.PORT_COUNT)
                        .irqNoFlags(port.irq()).toAml()));
    }

    static Aml pciHostBridge(MemoryMap memory) {
        long holeStart = memory.ramBelow4g();
        ResourceTemplate crs = new ResourceTemplate()
                .wordBusNumber(0x00, 0xFF)
                .io(Layout.PCI_CONFIG_ADDRESS, Layout.PCI_CONFIG_ADDRESS, 0x01, 0x08)
                .wordIo(0x0000, Layout.PCI_CONFIG_ADDRESS - 1)
                .wordIo(Layout.PCI_CONFIG_ADDRESS + 8, 0xffff)
                .dwordMemory(true, true, Layout.VGA_START, Layout.VGA_END - 1);
        if (holeStart < Layout.PCI_HOLE_END) {
            crs.dwordMemory(false, true, holeStart, Layout.PCI_HOLE_END - 1);
        }
        return Aml.device("PCI0",
                Aml.name("_HID", Aml.eisaId("PNP0A03")),
                Aml.name("_UID", Aml.integer(0)),
                Aml.name("_CRS", crs.toAml()));
    }
}
