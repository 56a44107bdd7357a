package dev.jkvm.vmm.snapshot;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.cli.Sizes;
import dev.jkvm.vmm.cpu.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The machine a snapshot was taken of, as far as a restore depends on it: RAM, vCPUs and their
 * model, the interrupt controllers, the firmware tables' options, the serial ports and the test
 * devices ({@code -device}). A restore
 * into a machine that differs in any of these is refused. {@code boot} (the firmware or kernel it
 * booted) is only shown: after a restore the guest's memory holds whatever it booted.
 */
public record MachineDescription(long memoryBytes, Topology topology, String cpu, boolean irqchip, boolean acpi,
                                 boolean s3, int serialPorts, boolean pcTestdev, boolean pciTestdev, int debugcons,
                                 String boot) {

    /** The description of a machine built from {@code config}. */
    public static MachineDescription of(MachineConfig config) {
        String boot = config.kernel().map(k -> "-kernel " + k.image())
                .orElseGet(() -> "-bios " + switch (config.firmware()) {
                    case BiosRom.Bundled b -> b.name();
                    case BiosRom.File f -> f.path().toString();
                    default -> config.firmware().toString();
                });
        return new MachineDescription(config.memoryBytes(), config.topology(), config.cpu(), config.irqchip(),
                config.acpi(), config.s3(), config.serials().size(), config.peripherals().pcTestdev(),
                config.peripherals().pciTestdev(), config.peripherals().debugcons().size(), boot);
    }

    /** What differs between this (the snapshot's machine) and {@code here}, in command-line terms; empty when nothing. */
    public Optional<String> mismatch(MachineDescription here) {
        List<String> d = new ArrayList<>();
        if (memoryBytes != here.memoryBytes) {
            d.add("-m " + mib(memoryBytes) + " in the snapshot, " + mib(here.memoryBytes) + " here");
        }
        if (!topology.equals(here.topology)) {
            d.add("-smp " + smp(topology) + " in the snapshot, " + smp(here.topology) + " here");
        }
        if (!cpu.equals(here.cpu)) {
            d.add("-cpu " + cpu + " in the snapshot, " + here.cpu + " here");
        }
        if (irqchip != here.irqchip) {
            d.add("kernel-irqchip=" + (irqchip ? "on" : "off") + " in the snapshot, " + (here.irqchip ? "on" : "off") + " here");
        }
        if (acpi != here.acpi || s3 != here.s3) {
            d.add("ACPI " + (acpi ? s3 ? "with S3" : "without S3" : "off") + " in the snapshot, "
                    + (here.acpi ? here.s3 ? "with S3" : "without S3" : "off") + " here");
        }
        if (serialPorts != here.serialPorts) {
            d.add(serialPorts + " serial ports in the snapshot, " + here.serialPorts + " here");
        }
        if (pcTestdev != here.pcTestdev || pciTestdev != here.pciTestdev || debugcons != here.debugcons) {
            d.add(devices(this) + " in the snapshot, " + devices(here) + " here");
        }
        return d.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", d));
    }

    private static String devices(MachineDescription m) {
        List<String> all = new ArrayList<>();
        if (m.pcTestdev) {
            all.add("pc-testdev");
        }
        if (m.pciTestdev) {
            all.add("pci-testdev");
        }
        for (int i = 0; i < m.debugcons; i++) {
            all.add("isa-debugcon");
        }
        return all.isEmpty() ? "no -device" : "-device " + String.join(",", all);
    }

    private static String mib(long bytes) {
        return bytes % (1L << 20) == 0 ? (bytes >> 20) + "M" : Sizes.human(bytes);
    }

    private static String smp(Topology t) {
        return String.format("%d,maxcpus=%d,sockets=%d,dies=%d,cores=%d,threads=%d",
                t.cpus(), t.maxCpus(), t.sockets(), t.dies(), t.cores(), t.threads());
    }
}
