package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.ByteWriter;
import dev.jkvm.vmm.firmware.InterruptOverride;
import dev.jkvm.vmm.firmware.IoApic;
import dev.jkvm.vmm.firmware.PlatformDescription;

/**
 * The Multiple APIC Description Table ("APIC"), revision 5 (ACPI 6.3): the local APIC address
 * with PCAT_COMPAT (there are 8259s); one entry per possible vCPU, Processor UID = vCPU index (the
 * {@code _UID} of its DSDT processor device), Enabled for the running ones and Online Capable for
 * the rest, a Local APIC entry while the APIC ID fits a byte (up to 254) and a Local x2APIC entry
 * beyond; the I/O APIC; the platform's interrupt source overrides; NMI on LINT1 of all processors
 * (and of all x2APIC processors when there are any).
 */
final class Madt {

    static final int REVISION = 5;

    static final int PCAT_COMPAT = 1;
    static final int LAPIC_ENABLED = 1;
    static final int LAPIC_ONLINE_CAPABLE = 1 << 1;

    static final int TYPE_LOCAL_APIC = 0;
    static final int TYPE_IO_APIC = 1;
    static final int TYPE_INTERRUPT_OVERRIDE = 2;
    static final int TYPE_LOCAL_APIC_NMI = 4;
    static final int TYPE_LOCAL_X2APIC = 9;
    static final int TYPE_LOCAL_X2APIC_NMI = 10;

    /** The largest APIC ID a Local APIC entry holds (255 is the broadcast ID). */
    static final int MAX_XAPIC_ID = 254;
    static final int ALL_PROCESSORS = 0xFF;
    static final long ALL_X2APIC_PROCESSORS = 0xFFFF_FFFFL;
    static final int LINT1 = 1;

    private Madt() {
    }

    static byte[] build(PlatformDescription p) {
        ByteWriter w = SdtHeader.begin("APIC", REVISION);
        w.u32(p.localApicAddress());
        w.u32(PCAT_COMPAT);

        Topology t = p.topology();
        boolean anyX2apic = false;
        for (int i = 0; i < t.maxCpus(); i++) {
            int apicId = t.apicId(i);
            int flags = i < t.cpus() ? LAPIC_ENABLED : LAPIC_ONLINE_CAPABLE;
            if (apicId <= MAX_XAPIC_ID) {
                // APIC IDs never fall below the vCPU index, so the UID fits the byte as well.
                w.u8(TYPE_LOCAL_APIC).u8(8).u8(i).u8(apicId).u32(flags);
            } else {
                anyX2apic = true;
                w.u8(TYPE_LOCAL_X2APIC).u8(16).u16(0).u32(apicId).u32(flags).u32(i);
            }
        }

        IoApic io = p.ioApic();
        w.u8(TYPE_IO_APIC).u8(12).u8(io.id()).u8(0).u32(io.address()).u32(io.gsiBase());

        for (InterruptOverride o : p.interruptOverrides()) {
            w.u8(TYPE_INTERRUPT_OVERRIDE).u8(10).u8(0 /* ISA */).u8(o.isaIrq()).u32(o.gsi()).u16(o.flags());
        }

        w.u8(TYPE_LOCAL_APIC_NMI).u8(6).u8(ALL_PROCESSORS).u16(0).u8(LINT1);
        if (anyX2apic) {
            w.u8(TYPE_LOCAL_X2APIC_NMI).u8(12).u16(0).u32(ALL_X2APIC_PROCESSORS).u8(LINT1).zeros(3);
        }
        return SdtHeader.finish(w);
    }
}
