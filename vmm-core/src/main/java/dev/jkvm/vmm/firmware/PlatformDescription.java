package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.cpu.CpuSignature;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The one description of the machine that every firmware table (MP table, ACPI FADT, MADT, DSDT)
 * is derived from, so the tables cannot disagree with each other.
 *
 * <pre>{@code
 * PlatformDescription p = PlatformDescription.pc(new Topology(2, 4, 4, 1, 1, 1), MemoryMap.pc(256 << 20, 64 << 10))
 *         .withSerialPorts(List.of(SerialPort.COM1));
 * FirmwareTables tables = FirmwareTables.layOut(p, true, true);
 * }</pre>
 *
 * @param topology the vCPUs: one table entry per possible vCPU ({@code maxCpus}), enabled for the
 *     first {@code cpus}
 * @param localApicAddress where every local APIC's registers appear
 * @param ioApic the I/O APIC
 * @param interruptOverrides the ISA IRQs not wired identically to the I/O APIC pin of their number,
 *     or not edge/active-high
 * @param sciIrq the ISA IRQ of the ACPI system control interrupt
 * @param pm the ACPI fixed-hardware ports
 * @param reset the reset register
 * @param rtcCenturyIndex the CMOS index of the RTC's century byte (FADT CENTURY)
 * @param serialPorts the UARTs present, COM1 first
 * @param i8042 whether the 8042 keyboard controller is present (ports 0x60/0x64, IRQ 1)
 * @param s3 whether suspend-to-RAM is offered (DSDT {@code \_S3})
 * @param pciHostBridge whether to describe {@code \_SB.PCI0} (PNP0A03): only when PCI
 *     configuration mechanism #1 (ports 0xcf8/0xcfc) answers
 * @param msi whether message-signalled interrupts work (else FADT says MSI not supported)
 * @param cpuSignature what the MP table says about the CPUs
 * @param memory the guest-physical memory map (PCI hole, where the tables may go)
 */
public record PlatformDescription(Topology topology, long localApicAddress, IoApic ioApic,
        List<InterruptOverride> interruptOverrides, int sciIrq, PmPorts pm, ResetRegister reset, int rtcCenturyIndex,
        List<SerialPort> serialPorts, boolean i8042, boolean s3, boolean pciHostBridge, boolean msi,
        CpuSignature cpuSignature, MemoryMap memory) {

    /** The CMOS index of the century byte, as QEMU's RTC keeps it. */
    public static final int RTC_CENTURY_INDEX = 0x32;

    public PlatformDescription {
        if (topology == null || ioApic == null || pm == null || reset == null || cpuSignature == null || memory == null) {
            throw new IllegalArgumentException("platform description is missing a part");
        }
        interruptOverrides = List.copyOf(interruptOverrides);
        serialPorts = List.copyOf(serialPorts);
        if ((localApicAddress & 0xFFF) != 0 || localApicAddress < 0 || localApicAddress > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("local APIC address 0x" + Long.toHexString(localApicAddress)
                    + " must be a page-aligned 32-bit address");
        }
        Set<Integer> sources = new HashSet<>();
        for (InterruptOverride o : interruptOverrides) {
            if (!sources.add(o.isaIrq())) {
                throw new IllegalArgumentException("ISA IRQ " + o.isaIrq() + " is overridden twice");
            }
            if (!ioApic.serves(o.gsi())) {
                throw new IllegalArgumentException("ISA IRQ " + o.isaIrq() + " is routed to GSI " + o.gsi()
                        + ", which the I/O APIC does not have");
            }
        }
        if (sciIrq < 0 || sciIrq > 15) {
            throw new IllegalArgumentException("SCI IRQ " + sciIrq + " is not an ISA IRQ");
        }
        if (rtcCenturyIndex < 0x0E || rtcCenturyIndex > 0x7F) {
            throw new IllegalArgumentException("RTC century index 0x" + Integer.toHexString(rtcCenturyIndex)
                    + " is not a CMOS RAM byte");
        }
        if (topology.apicId(0) != 0) {
            throw new IllegalArgumentException("the boot vCPU must have APIC ID 0");
        }
    }

    /**
     * A PC as jkvm builds it ({@link Layout}): the I/O APIC with 24 pins, IRQ0 on GSI 2, the SCI
     * level-triggered active high, PIIX4 PM ports, reset via 0xcf9, COM1, the 8042, a PCI host
     * bridge, no S3, no MSI.
     */
    public static PlatformDescription pc(Topology topology, MemoryMap memory) {
        List<InterruptOverride> overrides = List.of(
                new InterruptOverride(Layout.PIT_IRQ, Layout.PIT_GSI, InterruptOverride.Polarity.CONFORMS,
                        InterruptOverride.Trigger.CONFORMS),
                new InterruptOverride(Layout.SCI_IRQ, Layout.SCI_IRQ, InterruptOverride.Polarity.ACTIVE_HIGH,
                        InterruptOverride.Trigger.LEVEL));
        return new PlatformDescription(topology, Layout.LOCAL_APIC, IoApic.PC, overrides, Layout.SCI_IRQ, PmPorts.PIIX4,
                ResetRegister.PC, RTC_CENTURY_INDEX, List.of(SerialPort.COM1), true, false, true, false,
                CpuSignature.DEFAULT, memory);
    }

    public PlatformDescription withSerialPorts(List<SerialPort> ports) {
        return new PlatformDescription(topology, localApicAddress, ioApic, interruptOverrides, sciIrq, pm, reset,
                rtcCenturyIndex, ports, i8042, s3, pciHostBridge, msi, cpuSignature, memory);
    }

    public PlatformDescription withI8042(boolean present) {
        return new PlatformDescription(topology, localApicAddress, ioApic, interruptOverrides, sciIrq, pm, reset,
                rtcCenturyIndex, serialPorts, present, s3, pciHostBridge, msi, cpuSignature, memory);
    }

    public PlatformDescription withS3(boolean offered) {
        return new PlatformDescription(topology, localApicAddress, ioApic, interruptOverrides, sciIrq, pm, reset,
                rtcCenturyIndex, serialPorts, i8042, offered, pciHostBridge, msi, cpuSignature, memory);
    }

    public PlatformDescription withPciHostBridge(boolean present) {
        return new PlatformDescription(topology, localApicAddress, ioApic, interruptOverrides, sciIrq, pm, reset,
                rtcCenturyIndex, serialPorts, i8042, s3, present, msi, cpuSignature, memory);
    }

    public PlatformDescription withMsi(boolean supported) {
        return new PlatformDescription(topology, localApicAddress, ioApic, interruptOverrides, sciIrq, pm, reset,
                rtcCenturyIndex, serialPorts, i8042, s3, pciHostBridge, supported, cpuSignature, memory);
    }

    public PlatformDescription withCpuSignature(CpuSignature signature) {
        return new PlatformDescription(topology, localApicAddress, ioApic, interruptOverrides, sciIrq, pm, reset,
                rtcCenturyIndex, serialPorts, i8042, s3, pciHostBridge, msi, signature, memory);
    }

    /** The override of ISA IRQ {@code irq}, if it has one. */
    public Optional<InterruptOverride> overrideOf(int irq) {
        for (InterruptOverride o : interruptOverrides) { // loops, not streams: the tables are built interpreted at start-up
            if (o.isaIrq() == irq) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    /** The global system interrupt ISA IRQ {@code irq} arrives on. */
    public int gsiOf(int irq) {
        return overrideOf(irq).map(InterruptOverride::gsi).orElse(ioApic.gsiBase() + irq);
    }

    /**
     * Whether ISA IRQ {@code irq} reaches the I/O APIC at all: not when another IRQ was moved onto
     * its pin (IRQ 2, the cascade, whose pin the PIT's IRQ 0 takes).
     */
    public boolean isaIrqConnected(int irq) {
        if (overrideOf(irq).isPresent()) {
            return true;
        }
        int pin = ioApic.gsiBase() + irq;
        for (InterruptOverride o : interruptOverrides) {
            if (o.gsi() == pin) {
                return false;
            }
        }
        return true;
    }
}
