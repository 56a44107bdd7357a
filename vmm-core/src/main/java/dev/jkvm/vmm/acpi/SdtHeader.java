package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.firmware.ByteWriter;

/**
 * The 36-byte System Description Table header every ACPI table but the RSDP and the FACS starts
 * with, and the finishing touches (length, checksum) once the body is written.
 */
final class SdtHeader {

    static final int LENGTH = 36;
    static final int LENGTH_OFFSET = 4;
    static final int CHECKSUM_OFFSET = 9;

    private SdtHeader() {
    }

    /** A writer holding the header of {@code signature}; OEM table ID "JKVM" + the signature. */
    static ByteWriter begin(String signature, int revision) {
        ByteWriter w = new ByteWriter();
        w.ascii(signature, 4);
        w.u32(0); // length, set by finish
        w.u8(revision);
        w.u8(0); // checksum, set by finish
        w.ascii(AcpiTables.OEM_ID, 6);
        w.ascii(AcpiTables.OEM_TABLE_ID_PREFIX + signature, 8);
        w.u32(AcpiTables.OEM_REVISION);
        w.ascii(AcpiTables.CREATOR_ID, 4);
        w.u32(AcpiTables.CREATOR_REVISION);
        return w;
    }

    /** Sets the length and the checksum over the whole table. */
    static byte[] finish(ByteWriter w) {
        w.putU32(LENGTH_OFFSET, w.position());
        w.fixChecksum(CHECKSUM_OFFSET, 0, w.position());
        return w.toByteArray();
    }
}
