package dev.jkvm.vmm.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.devices.AcpiPmBlock;
import dev.jkvm.devices.IrqLine;
import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PciTestdev;
import dev.jkvm.devices.PortBus;
import dev.jkvm.devices.SystemControl;
import dev.jkvm.vmm.acpi.AcpiTableEntry;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.FirmwareTables;
import dev.jkvm.vmm.firmware.Placement;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.SerialPort;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.memory.Region;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The facts of {@link Layout} as every table the guest reads shows them: the memory map, e820, the
 * MP table, the ACPI tables (MADT, FADT, DSDT) and the device wiring read the same addresses, and
 * nothing the layout places overlaps anything else.
 */
class LayoutTest {

    private static final MemoryMap SMALL = MemoryMap.pc(256 * MemoryMap.MIB, 64 * MemoryMap.KIB);
    /** The most low RAM a guest gets: just under the split, so RAM runs up to 3.5 GiB. */
    private static final MemoryMap BIG = MemoryMap.pc(Layout.SPLIT_THRESHOLD - MemoryMap.PAGE, 256 * MemoryMap.KIB);
    private static final MemoryMap SPLIT = MemoryMap.pc(8 * MemoryMap.GIB, 16 * MemoryMap.MIB);

    private static PlatformDescription platform(MemoryMap memory) {
        return PlatformDescription.pc(new Topology(2, 4, 4, 1, 1, 1), memory)
                .withSerialPorts(IntStream.range(0, Layout.COM_COUNT).mapToObj(SerialPort::com).toList())
                .withS3(true);
    }

    /** Conventional memory with the firmware tables copied in. */
    private static ByteBuffer lowMemory(FirmwareTables t) {
        byte[] low = new byte[(int) Layout.LOW_RAM_END];
        for (Placement p : t.placements()) {
            System.arraycopy(p.bytes(), 0, low, (int) p.address(), p.length());
        }
        return ByteBuffer.wrap(low).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static AcpiTableEntry table(FirmwareTables t, String signature) {
        return t.acpiTables().stream().filter(e -> e.signature().equals(signature)).findFirst().orElseThrow();
    }

    @Test
    void theMemoryMapLeavesTheLegacyHoleAndThePciHoleWhereTheLayoutSays() {
        for (MemoryMap map : List.of(SMALL, BIG, SPLIT)) {
            Region low = map.regions().getFirst();
            assertEquals(0, low.base());
            assertEquals(Layout.LOW_RAM_END, low.end());
            assertEquals(Layout.HIGH_RAM_START, map.regions(Region.Kind.RAM).get(1).base());
            for (Region r : map.regions(Region.Kind.RAM)) {
                assertTrue(r.end() <= Layout.PCI_HOLE_END || r.base() >= Layout.FOUR_GIB, r + " runs into the 32-bit hole");
            }
            Region rom = map.regions(Region.Kind.ROM).getFirst();
            assertEquals(Layout.FOUR_GIB, rom.end());
            Region isa = map.regions(Region.Kind.ROM_ALIAS).getFirst();
            assertEquals(Layout.HIGH_RAM_START, isa.end());
            assertTrue(isa.base() >= Layout.VGA_END && isa.base() <= Layout.BIOS_SEGMENT, isa.toString());
            // the legacy area is memory from the VGA window's end to 1 MiB: pc.rom, then RAM or the alias
            Region pcRom = map.regionOf(Layout.VGA_END, 1).orElseThrow();
            assertEquals(List.of(Region.Kind.OPTION_ROM, Layout.OPTION_ROM_START, Layout.OPTION_ROM_END),
                    List.of(pcRom.kind(), pcRom.base(), pcRom.end()));
            Region e = map.regionOf(Layout.OPTION_ROM_END, 1).orElseThrow();
            assertTrue(e == isa || (e.kind() == Region.Kind.UNLISTED_RAM && e.end() == isa.base()), e.toString());
            assertTrue(map.regionOf(Layout.VGA_START, 1).isEmpty() && map.regionOf(Layout.VGA_END - 1, 1).isEmpty(),
                    "the VGA window stays MMIO");
        }
        assertEquals(Layout.LOW_MEMORY_SPLIT, SPLIT.ramBelow4g());
        assertEquals(Layout.FOUR_GIB, SPLIT.regions(Region.Kind.RAM).getLast().base());
    }

    @Test
    void whatKvmAndTheChipsetDecodeInTheHoleIsNeitherRamNorRom() {
        long[][] windows = {
            {Layout.PCI_TESTDEV_BAR0, 4096}, {Layout.IO_APIC, Layout.IO_APIC_SIZE},
            {Layout.LOCAL_APIC, Layout.LOCAL_APIC_SIZE}, {Layout.IDENTITY_MAP, Layout.KVM_PRIVATE_SIZE},
        };
        for (MemoryMap map : List.of(SMALL, BIG, SPLIT)) {
            for (long[] w : windows) {
                for (Region r : map.regions()) {
                    assertFalse(w[0] < r.end() && r.base() < w[0] + w[1],
                            String.format("0x%x+0x%x lies in %s", w[0], w[1], r));
                }
            }
        }
        List<long[]> sorted = new ArrayList<>(List.of(windows));
        sorted.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int i = 1; i < sorted.size(); i++) {
            assertTrue(sorted.get(i - 1)[0] + sorted.get(i - 1)[1] <= sorted.get(i)[0], "windows overlap");
        }
        assertTrue(Layout.IDENTITY_MAP + Layout.KVM_PRIVATE_SIZE <= Layout.FOUR_GIB - Layout.MAX_ROM_SIZE,
                "KVM's pages lie under the largest ROM");
        assertEquals(Layout.IDENTITY_MAP + 4096, Layout.TSS);
        assertTrue(Layout.PCI_TESTDEV_BAR0 >= BIG.ramBelow4g() && Layout.PCI_TESTDEV_BAR0 + 4096 <= Layout.PCI_HOLE_END);
        // the device's unit tests use its own defaults, which are SeaBIOS's: the same BARs
        assertEquals(PciTestdev.DEFAULT_MMIO_BASE, Layout.PCI_TESTDEV_BAR0);
        assertEquals(PciTestdev.DEFAULT_IO_BASE, Layout.PCI_TESTDEV_BAR1);
    }

    @Test
    void e820ReservesTheEbdaTheBiosSegmentAndTheTablesAndLeavesTheBootDataUsable() {
        FirmwareTables t = FirmwareTables.layOut(platform(SMALL), true, true);
        E820 e820 = E820.pc(SMALL, t.reservedBase());
        assertEquals(E820.RESERVED, e820.entryAt(Layout.EBDA_START).type());
        assertEquals(E820.RESERVED, e820.entryAt(Layout.MP_FLOATING_POINTER).type());
        assertEquals(E820.RESERVED, e820.entryAt(Layout.RSDP).type());
        assertEquals(E820.RESERVED, e820.entryAt(Layout.BIOS_SEGMENT).type());
        assertEquals(E820.RESERVED, e820.entryAt(Layout.TSS).type());
        for (Placement p : t.placements()) {
            assertEquals(E820.RESERVED, e820.entryAt(p.address()).type(), p.what());
            assertEquals(E820.RESERVED, e820.entryAt(p.end() - 1).type(), p.what());
        }
        assertTrue(Layout.BOOT_DATA_END <= Layout.FIRMWARE_TABLES_LOWEST);
        assertTrue(e820.usableFrom(Layout.BOOT_DATA_START) >= Layout.BOOT_DATA_END - Layout.BOOT_DATA_START);
        assertTrue(e820.usableFrom(Layout.KERNEL_LOAD) > 0);
        // pc.rom and the RAM under a small ROM are not in the map, as under SeaBIOS: only the BIOS segment is
        for (long a = Layout.VGA_START; a < Layout.BIOS_SEGMENT; a += MemoryMap.PAGE) {
            assertEquals(null, e820.entryAt(a), Long.toHexString(a));
        }
        assertEquals(Layout.LOW_RAM_END, t.reservedEnd());
        assertTrue(t.reservedBase() >= Layout.FIRMWARE_TABLES_LOWEST);
    }

    @Test
    void theMpTableNamesTheLayoutsApics() {
        ByteBuffer low = lowMemory(FirmwareTables.layOut(platform(SMALL), true, true));
        int fp = (int) Layout.MP_FLOATING_POINTER;
        assertEquals(0x5f504d5f, low.getInt(fp)); // "_MP_"
        int config = low.getInt(fp + 4);
        assertEquals(0x504d4350, low.getInt(config)); // "PCMP"
        assertEquals(Layout.LOCAL_APIC, Integer.toUnsignedLong(low.getInt(config + 36)));
        int entries = Short.toUnsignedInt(low.getShort(config + 34));
        int at = config + 44;
        long ioApic = -1;
        for (int i = 0; i < entries; i++) {
            int type = low.get(at);
            if (type == 2) {
                ioApic = Integer.toUnsignedLong(low.getInt(at + 4));
            }
            at += type == 0 ? 20 : 8;
        }
        assertEquals(Layout.IO_APIC, ioApic);
    }

    @Test
    void theAcpiTablesNameTheLayoutsApicsPortsAndIrqs() {
        FirmwareTables t = FirmwareTables.layOut(platform(SMALL), true, true);
        ByteBuffer low = lowMemory(t);
        assertEquals(Layout.RSDP, t.rsdpAddress().orElseThrow());
        assertEquals(0x2052545020445352L, low.getLong((int) Layout.RSDP)); // "RSD PTR "

        int madt = (int) table(t, "APIC").address();
        assertEquals(Layout.LOCAL_APIC, Integer.toUnsignedLong(low.getInt(madt + 36)));
        long ioApic = -1;
        for (int at = madt + 44; at < madt + low.getInt(madt + 4); at += Byte.toUnsignedInt(low.get(at + 1))) {
            if (low.get(at) == 1) {
                ioApic = Integer.toUnsignedLong(low.getInt(at + 4));
            }
        }
        assertEquals(Layout.IO_APIC, ioApic);

        int fadt = (int) table(t, "FACP").address();
        assertEquals(Layout.SCI_IRQ, Short.toUnsignedInt(low.getShort(fadt + 46)));
        assertEquals(Layout.PM1A_EVENT, low.getInt(fadt + 56));
        assertEquals(Layout.PM1A_CONTROL, low.getInt(fadt + 64));
        assertEquals(Layout.PM_TIMER, low.getInt(fadt + 76));
        assertEquals(Layout.GPE0, low.getInt(fadt + 80));
        assertEquals(Layout.RESET_CONTROL, low.getLong(fadt + 116 + 4));
        // the PM block the board wires answers at the ports the FADT names
        AcpiPmBlock.Ports wired = Layout.PM_PORTS;
        assertEquals(List.of(Layout.PM1A_EVENT, Layout.PM1A_CONTROL, Layout.PM_TIMER, Layout.GPE0),
                List.of(wired.pm1aEvent(), wired.pm1aControl(), wired.pmTimer(), wired.gpe0()));
        // the devices' own unit tests use the model's QEMU defaults: the same ports
        assertEquals(AcpiPmBlock.Ports.QEMU_PIIX4, wired);

        AcpiTableEntry dsdt = table(t, "DSDT");
        byte[] aml = new byte[dsdt.length()];
        low.get((int) dsdt.address(), aml);
        for (int i = 0; i < Layout.COM_COUNT; i++) {
            assertTrue(hasIoDescriptor(aml, Layout.comBase(i), Layout.COM_PORTS), "COM" + (i + 1));
        }
        assertTrue(hasIoDescriptor(aml, Layout.CMOS, Layout.CMOS_PORTS), "RTC");
        assertTrue(hasIoDescriptor(aml, Layout.I8042_DATA, 1) && hasIoDescriptor(aml, Layout.I8042_COMMAND, 1), "KBD");
        assertTrue(hasIoDescriptor(aml, Layout.PCI_CONFIG_ADDRESS, 8), "PCI0");
    }

    /** The host bridge's memory windows (the DSDT's DWordMemory descriptors) hold no memory: the VGA window and the hole. */
    @Test
    void theDsdtsMemoryWindowsMissEveryMemoryRegion() {
        for (MemoryMap map : List.of(SMALL, BIG, SPLIT)) {
            FirmwareTables t = FirmwareTables.layOut(platform(map), true, true);
            AcpiTableEntry dsdt = table(t, "DSDT");
            byte[] aml = new byte[dsdt.length()];
            lowMemory(t).get((int) dsdt.address(), aml);
            ByteBuffer b = ByteBuffer.wrap(aml).order(ByteOrder.LITTLE_ENDIAN);
            List<long[]> windows = new ArrayList<>();
            for (int i = 0; i + 26 <= aml.length; i++) {
                // DWord Address Space Descriptor, 0x17 bytes, resource type 0 (memory)
                if (aml[i] == (byte) 0x87 && aml[i + 1] == 0x17 && aml[i + 2] == 0 && aml[i + 3] == 0) {
                    windows.add(new long[] {Integer.toUnsignedLong(b.getInt(i + 10)), Integer.toUnsignedLong(b.getInt(i + 14))});
                }
            }
            assertEquals(List.of(Layout.VGA_START, Layout.VGA_END - 1), List.of(windows.getFirst()[0], windows.getFirst()[1]));
            for (long[] w : windows) {
                for (Region r : map.regions()) {
                    assertFalse(w[0] < r.end() && r.base() <= w[1], String.format("window 0x%x-0x%x holds %s", w[0], w[1], r));
                }
            }
        }
    }

    /** An AML IO resource descriptor (decode16, min = max = {@code port}, alignment 1, {@code length}). */
    private static boolean hasIoDescriptor(byte[] aml, int port, int length) {
        byte[] d = {0x47, 0x01, (byte) port, (byte) (port >> 8), (byte) port, (byte) (port >> 8), 0x01, (byte) length};
        outer:
        for (int i = 0; i + d.length <= aml.length; i++) {
            for (int j = 0; j < d.length; j++) {
                if (aml[i + j] != d[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    // ---- the device list ----

    private static final SystemControl NO_CONTROL = new SystemControl() {
        @Override public void reset() { }
        @Override public void powerOff() { }
        @Override public void sleep(int slpTyp) { }
    };

    private static PcDevices board(PortBus bus, MmioBus mmio, PcDevices.Sleep sleep, IntFunction<IrqLine> irqs) {
        List<OutputStream> sinks = java.util.Collections.nCopies(Layout.COM_COUNT, OutputStream.nullOutputStream());
        return new PcDevices(bus, mmio, irqs, NO_CONTROL, sinks, SMALL, Topology.SINGLE, status -> { }, sleep);
    }

    @Test
    void theDeviceListHoldsWhatTheBusesHoldAndNoTwoDevicesOverlap() {
        PortBus bus = new PortBus();
        MmioBus mmio = new MmioBus();
        try (PcDevices devices = board(bus, mmio, PcDevices.Sleep.NEVER, irq -> IrqLine.none())) {
            devices.addPcTestdev(page -> { });
            devices.addPciTestdev();
            devices.addDebugcon(0x402, 0xe9, OutputStream.nullOutputStream());
            List<BoardDevice> list = devices.list();
            List<BoardDevice.Range> ports = new ArrayList<>();
            List<BoardDevice.Range> windows = new ArrayList<>();
            for (BoardDevice d : list) {
                for (BoardDevice.Range r : d.ports()) {
                    for (BoardDevice.Range o : ports) {
                        assertFalse(r.overlaps(o), d.name() + " at " + r + " overlaps " + o);
                    }
                    ports.add(r);
                }
                for (BoardDevice.Range r : d.mmio()) {
                    for (BoardDevice.Range o : windows) {
                        assertFalse(r.overlaps(o), d.name() + " at " + r + " overlaps " + o);
                    }
                    windows.add(r);
                }
            }
            // every registration on the buses is some listed device's
            for (PortBus.Registration r : bus.devices()) {
                assertTrue(ports.stream().anyMatch(l -> l.base() <= r.base() && r.last() <= l.last()), r + " is not listed");
            }
            for (MmioBus.Registration r : mmio.devices()) {
                assertTrue(windows.stream().anyMatch(l -> l.base() <= r.base() && r.last() <= l.last()), r + " is not listed");
            }
            // and every port the firmware tables name answers, where the list says
            for (int port : new int[] {Layout.CMOS, Layout.I8042_DATA, Layout.I8042_COMMAND, Layout.FW_CFG, Layout.PORT_A,
                    Layout.RESET_CONTROL, Layout.POST, Layout.DEBUG_EXIT, Layout.PM1A_EVENT, Layout.PM1A_CONTROL,
                    Layout.PM_TIMER, Layout.GPE0, Layout.PCI_CONFIG_ADDRESS, Layout.PCI_CONFIG_DATA, Layout.PCI_TESTDEV_BAR1}) {
                assertTrue(bus.deviceAt(port) != null, String.format("nothing at 0x%x", port));
            }
            for (SerialPort com : platform(SMALL).serialPorts()) {
                BoardDevice d = list.stream().filter(x -> x.ports().contains(new BoardDevice.Range(com.base(), SerialPort.PORT_COUNT)))
                        .findFirst().orElseThrow();
                assertEquals(com.irq(), d.irq());
            }
            assertTrue(mmio.deviceAt(Layout.PC_TESTDEV_IOMEM) != null);
            assertTrue(mmio.deviceAt(Layout.PCI_TESTDEV_BAR0) != null);

            String info = devices.describe();
            for (String row : new String[] {"pc-testdev", "pci-testdev: bar0=0xfebff000", "isa-debugcon", "I/O APIC (in KVM)",
                    "0x3f8-0x3ff", "0x2e8-0x2ef", "0xe0-0xeb,0x2000-0x2017,mmio 0xff000000-0xff00ffff", "0x402 "}) {
                assertTrue(info.contains(row), row + " in\n" + info);
            }
            assertEquals(list.size(), info.lines().count());
        }
    }

    @Test
    void resetsAndS3AreDerivedFromTheList() {
        try (PcDevices devices = board(new PortBus(), new MmioBus(), PcDevices.Sleep.NEVER, irq -> IrqLine.none())) {
            List<String> kept = devices.list().stream().filter(d -> d.reset() != null && d.keptInS3()).map(BoardDevice::name)
                    .toList();
            assertEquals(List.of("cmos-rtc", "acpi-pm"), kept);
            assertEquals(List.of("COM1", "COM2", "COM3", "COM4", "cmos-rtc", "i8042", "i440fx-pci-host", "port92", "piix-rcr",
                    "acpi-pm"), devices.list().stream().filter(d -> d.reset() != null).map(BoardDevice::name).toList());
        }
    }

    @Test
    void whileTheGuestSleepsTheRtcInterruptWakesItOnlyWhenRtcEnIsSet() throws InterruptedException {
        PortBus bus = new PortBus();
        java.util.concurrent.atomic.AtomicBoolean suspended = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.CountDownLatch woken = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger irq8 = new java.util.concurrent.atomic.AtomicInteger();
        PcDevices.Sleep sleep = new PcDevices.Sleep() {
            @Override
            public boolean suspended() {
                return suspended.get();
            }

            @Override
            public void wake() {
                suspended.set(false);
                woken.countDown();
            }
        };
        IntFunction<IrqLine> irqs = irq -> irq == Layout.RTC_IRQ ? level -> irq8.incrementAndGet() : IrqLine.none();
        try (PcDevices devices = board(bus, new MmioBus(), sleep, irqs)) {
            bus.write(Layout.PM1A_EVENT + 2, 2, AcpiPmBlock.RTC_STS); // RTC_EN, as a guest arms its wake-up
            bus.write(Layout.CMOS, 1, 0x0b);
            bus.write(Layout.CMOS + 1, 1, 0x42); // PIE, 24-hour mode: the periodic interrupt at 1024 Hz
            assertTrue(woken.await(30, java.util.concurrent.TimeUnit.SECONDS), "the RTC's interrupt did not wake the guest");
            assertTrue((bus.read(Layout.PM1A_EVENT, 2) & AcpiPmBlock.RTC_STS) != 0, "RTC_STS");
        }
    }
}
