package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.cpu.Topology;

/**
 * The Intel MultiProcessor Specification 1.4 tables: the 16-byte floating pointer structure a
 * guest finds by scanning memory, and the configuration table ("PCMP") it points to.
 *
 * <p>Entries, in the order the specification requires: one processor per possible vCPU (enabled
 * for the first {@code cpus}, BSP flag on vCPU 0, local APIC version 0x14 as KVM's); the ISA bus
 * (ID 0); the I/O APIC; an I/O interrupt entry per ISA IRQ 0..15 that reaches the I/O APIC (IRQ 0
 * on INTIN 2, IRQ 2 left out, the others identity-mapped, as SeaBIOS does; with the polarity and
 * trigger of the platform's overrides); ExtINT on LINTIN0 and NMI on LINTIN1 of all local APICs.
 *
 * <p>The MP table cannot name APIC IDs above 254: such vCPUs are left out (a guest that big
 * reads the MADT).
 *
 * <pre>{@code
 * MpTable.Image mp = MpTable.build(platform, 0x9FC00, 0x9E000);
 * memory.write(0x9FC00, mp.floatingPointer());
 * memory.write(0x9E000, mp.configTable());
 * }</pre>
 */
public final class MpTable {

    /** Length of the floating pointer structure. */
    public static final int FLOATING_POINTER_LENGTH = 16;
    /** Length of the configuration table's header. */
    public static final int HEADER_LENGTH = 44;
    /** MP specification revision 1.4. */
    public static final int SPEC_REVISION = 4;
    /** Local APIC version register of KVM's local APIC (integrated APIC). */
    public static final int LOCAL_APIC_VERSION = 0x14;
    /** The bus ID of the ISA bus. */
    public static final int ISA_BUS = 0;
    /** The "all local APICs" destination of a local interrupt entry. */
    public static final int ALL_LOCAL_APICS = 0xFF;

    static final int TYPE_PROCESSOR = 0;
    static final int TYPE_BUS = 1;
    static final int TYPE_IO_APIC = 2;
    static final int TYPE_IO_INTERRUPT = 3;
    static final int TYPE_LOCAL_INTERRUPT = 4;

    static final int INT_VECTORED = 0;
    static final int INT_NMI = 1;
    static final int INT_EXTINT = 3;

    private static final int PROCESSOR_ENABLED = 1;
    private static final int PROCESSOR_BSP = 2;

    private MpTable() {
    }

    /**
     * The two structures.
     *
     * @param floatingPointer goes at a 16-byte aligned address a guest scans (first KiB of the
     *     EBDA, last KiB of base memory 0x9FC00, or 0xF0000-0xFFFFF); its bytes do not depend on
     *     where it goes
     * @param configTableAddress where {@code configTable} must go: the floating pointer holds it
     */
    public record Image(byte[] floatingPointer, long configTableAddress, byte[] configTable) {

        public Image {
            floatingPointer = floatingPointer.clone();
            configTable = configTable.clone();
        }

        @Override
        public byte[] floatingPointer() {
            return floatingPointer.clone();
        }

        @Override
        public byte[] configTable() {
            return configTable.clone();
        }
    }

    /**
     * Builds both structures for a configuration table at {@code configTableAddress} (a 32-bit
     * physical address; 16-byte alignment is not required but is what firmware does).
     */
    public static Image build(PlatformDescription p, long configTableAddress) {
        return image(configTable(p), configTableAddress);
    }

    /** The image of a configuration table built already (its bytes do not depend on its address). */
    static Image image(byte[] configTable, long configTableAddress) {
        if (configTableAddress <= 0 || configTableAddress + configTable.length > 0x1_0000_0000L) {
            throw new IllegalArgumentException("MP configuration table at 0x" + Long.toHexString(configTableAddress)
                    + " must lie below 4 GiB");
        }
        return new Image(floatingPointer(configTableAddress), configTableAddress, configTable);
    }

    /** The length of the configuration table {@link #build} makes for {@code p}. */
    public static int configTableLength(PlatformDescription p) {
        return configTable(p).length;
    }

    /** The floating pointer structure pointing at a configuration table at {@code configTableAddress}. */
    static byte[] floatingPointer(long configTableAddress) {
        ByteWriter w = new ByteWriter();
        w.ascii("_MP_", 4);
        w.u32(configTableAddress);
        w.u8(1); // length in 16-byte paragraphs
        w.u8(SPEC_REVISION);
        w.u8(0); // checksum
        w.u8(0); // feature byte 1: 0 = a configuration table is present (no default configuration)
        w.u8(0); // feature byte 2: IMCRP clear = virtual wire mode, no IMCR
        w.zeros(3);
        w.fixChecksum(10, 0, FLOATING_POINTER_LENGTH);
        return w.toByteArray();
    }

    static byte[] configTable(PlatformDescription p) {
        ByteWriter w = new ByteWriter();
        w.ascii("PCMP", 4);
        w.u16(0); // base table length, patched below
        w.u8(SPEC_REVISION);
        w.u8(0); // checksum
        w.ascii("JKVM", 8);
        w.ascii("JKVM PC", 12);
        w.u32(0); // no OEM table
        w.u16(0); // its size
        w.u16(0); // entry count, patched below
        w.u32(p.localApicAddress());
        w.u16(0); // no extended entries
        w.u8(0); // their checksum
        w.u8(0); // reserved
        int entries = 0;

        Topology t = p.topology();
        for (int i = 0; i < t.maxCpus(); i++) {
            int apicId = t.apicId(i);
            if (apicId > 0xFE) {
                continue;
            }
            w.u8(TYPE_PROCESSOR).u8(apicId).u8(LOCAL_APIC_VERSION);
            w.u8((i < t.cpus() ? PROCESSOR_ENABLED : 0) | (i == 0 ? PROCESSOR_BSP : 0));
            w.u32(p.cpuSignature().signature()).u32(p.cpuSignature().features()).zeros(8);
            entries++;
        }

        w.u8(TYPE_BUS).u8(ISA_BUS).ascii("ISA", 6);
        entries++;

        IoApic io = p.ioApic();
        w.u8(TYPE_IO_APIC).u8(io.id()).u8(io.version()).u8(1 /* enabled */).u32(io.address());
        entries++;

        for (int irq = 0; irq < 16; irq++) {
            if (!p.isaIrqConnected(irq)) {
                continue;
            }
            int gsi = p.gsiOf(irq);
            if (!io.serves(gsi)) {
                continue;
            }
            int flags = p.overrideOf(irq).map(InterruptOverride::flags).orElse(0);
            w.u8(TYPE_IO_INTERRUPT).u8(INT_VECTORED).u16(flags).u8(ISA_BUS).u8(irq).u8(io.id()).u8(gsi - io.gsiBase());
            entries++;
        }

        // The 8259's output on LINTIN0 (virtual wire mode) and NMI on LINTIN1 of every local APIC,
        // as the local APICs' LVT reset state and the MP specification's default configurations.
        w.u8(TYPE_LOCAL_INTERRUPT).u8(INT_EXTINT).u16(0).u8(ISA_BUS).u8(0).u8(ALL_LOCAL_APICS).u8(0);
        w.u8(TYPE_LOCAL_INTERRUPT).u8(INT_NMI).u16(0).u8(ISA_BUS).u8(0).u8(ALL_LOCAL_APICS).u8(1);
        entries += 2;

        w.putU16(4, w.position());
        w.putU16(34, entries);
        w.fixChecksum(7, 0, w.position());
        return w.toByteArray();
    }
}
