package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.firmware.ByteWriter;
import java.util.List;

/** The RSDT (32-bit entries) and the XSDT (64-bit entries): the addresses of the other tables. */
final class RootTables {

    static final int REVISION = 1;

    private RootTables() {
    }

    /** The RSDT's length with {@code tables} entries. */
    static int rsdtLength(int tables) {
        return SdtHeader.LENGTH + 4 * tables;
    }

    /** The XSDT's length with {@code tables} entries. */
    static int xsdtLength(int tables) {
        return SdtHeader.LENGTH + 8 * tables;
    }

    static byte[] rsdt(List<Long> tables) {
        ByteWriter w = SdtHeader.begin("RSDT", REVISION);
        for (long t : tables) {
            if (t > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("the RSDT cannot point above 4 GiB");
            }
            w.u32(t);
        }
        return SdtHeader.finish(w);
    }

    static byte[] xsdt(List<Long> tables) {
        ByteWriter w = SdtHeader.begin("XSDT", REVISION);
        for (long t : tables) {
            w.u64(t);
        }
        return SdtHeader.finish(w);
    }
}
