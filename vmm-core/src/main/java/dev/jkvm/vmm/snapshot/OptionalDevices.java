package dev.jkvm.vmm.snapshot;

import dev.jkvm.devices.PcTestdev;
import dev.jkvm.devices.PciTestdev;
import java.util.List;

/**
 * The state of the devices a machine has only when asked for ({@code -device pc-testdev},
 * {@code pci-testdev}): each list is empty when the machine has no such device, else holds its
 * one state. ({@code isa-debugcon} only writes out: it has none.)
 */
public record OptionalDevices(List<PcTestdev.State> pcTestdev, List<PciTestdev.State> pciTestdev) {

    /** A machine without them. */
    public static final OptionalDevices NONE = new OptionalDevices(List.of(), List.of());
}
