package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.GuestMemory;

/**
 * The two words of the BIOS data area (at 0x400) a firmware leaves for the OS and that guests read
 * to find the firmware's tables: the segment of the extended BIOS data area (0x40E; the ACPI spec's
 * RSDP search and Linux's MP-table scan start there) and the base memory size in KiB below it
 * (0x413), which keeps the tables out of the RAM a guest takes for its own.
 */
public final class BiosDataArea {

    private BiosDataArea() {
    }

    /** Writes both words for the tables of {@code tables}. */
    public static void write(GuestMemory memory, FirmwareTables tables) {
        memory.write(Layout.BDA_EBDA_SEGMENT, le16(FirmwareTables.EBDA_SEGMENT));
        memory.write(Layout.BDA_BASE_MEMORY_KIB, le16((int) (tables.reservedBase() / 1024)));
    }

    private static byte[] le16(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8)};
    }
}
