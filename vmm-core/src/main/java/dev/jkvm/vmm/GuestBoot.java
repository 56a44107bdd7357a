package dev.jkvm.vmm;

import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.vmm.acpi.AcpiTableEntry;
import dev.jkvm.vmm.boot.BootEntry;
import dev.jkvm.vmm.boot.BootRequest;
import dev.jkvm.vmm.boot.KernelImage;
import dev.jkvm.vmm.boot.KernelLoader;
import dev.jkvm.vmm.firmware.BiosDataArea;
import dev.jkvm.vmm.firmware.FirmwareTables;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.VmSession;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * What a cold boot finds: the firmware tables and the BIOS data area written, and with
 * {@code -kernel} the kernel loaded (with a copy of the RSDP in the BIOS area, found once so resets
 * reuse it) and the BSP at its entry point.
 *
 * @param kernel null without {@code -kernel}
 */
record GuestBoot(GuestMemory memory, FirmwareTables tables, E820 e820, KernelImage kernel,
                 MachineConfig.Kernel request, OptionalLong biosRsdp) implements Consumer<VmSession> {

    @Override
    public void accept(VmSession s) {
        tables.writeTo(memory);
        BiosDataArea.write(memory, tables);
        if (kernel == null) {
            return;
        }
        if (biosRsdp.isPresent()) {
            memory.write(biosRsdp.getAsLong(), tables.rsdpBytes().orElseThrow());
        }
        BootRequest boot = new BootRequest(kernel.path(), request.initrd(), request.append());
        if (tables.rsdpAddress().isPresent()) {
            boot = boot.withAcpiRsdp(tables.rsdpAddress().getAsLong());
        }
        BootEntry entry = KernelLoader.load(boot, memory, e820);
        VcpuFd bsp = s.vcpus().getFirst().fd();
        bsp.setSregs(entry.applyTo(bsp.sregs()));
        bsp.setRegs(entry.regs());
    }

    /** The FACS firmware waking vector the guest left (offset 12 of the FACS), 0 when unset. */
    long wakingVector() {
        for (AcpiTableEntry t : tables.acpiTables()) {
            if (t.signature().equals("FACS")) {
                return memory.readU32(t.address() + 12);
            }
        }
        return 0;
    }
}
