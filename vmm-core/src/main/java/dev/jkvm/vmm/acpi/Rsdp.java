package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.firmware.ByteWriter;

/**
 * The Root System Description Pointer, revision 2 (36 bytes): "RSD PTR ", checksum over the
 * first 20 bytes, the RSDT address, the length, the XSDT address, extended checksum over all 36.
 * It points only at absolute addresses, so the same bytes work wherever the guest finds them.
 */
final class Rsdp {

    static final int LENGTH = 36;
    static final int REVISION = 2;

    private Rsdp() {
    }

    static byte[] build(long rsdt, long xsdt) {
        ByteWriter w = new ByteWriter();
        w.ascii("RSD PTR ", 8);
        w.u8(0); // checksum of bytes 0..19
        w.ascii(AcpiTables.OEM_ID, 6);
        w.u8(REVISION);
        w.u32(rsdt);
        w.u32(LENGTH);
        w.u64(xsdt);
        w.u8(0); // extended checksum
        w.zeros(3);
        w.fixChecksum(8, 0, 20);
        w.fixChecksum(32, 0, LENGTH);
        return w.toByteArray();
    }
}
