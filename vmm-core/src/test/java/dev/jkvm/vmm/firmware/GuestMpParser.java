package dev.jkvm.vmm.firmware;

import static dev.jkvm.vmm.firmware.Le.ascii;
import static dev.jkvm.vmm.firmware.Le.sum;
import static dev.jkvm.vmm.firmware.Le.u16;
import static dev.jkvm.vmm.firmware.Le.u32;
import static dev.jkvm.vmm.firmware.Le.u8;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decodes MP tables from a window of guest memory the way Linux's mpparse does: scan 16-byte
 * boundaries for a valid "_MP_" floating pointer, follow its physical pointer, verify the "PCMP"
 * table and walk its entries by type. Fails (IllegalStateException) where a guest would reject.
 */
final class GuestMpParser {

    record Processor(int apicId, int apicVersion, int flags, long signature, long features) {
        boolean enabled() {
            return (flags & 1) != 0;
        }

        boolean bsp() {
            return (flags & 2) != 0;
        }
    }

    record Bus(int id, String type) {
    }

    record IoApicEntry(int id, int version, int flags, long address) {
    }

    record Interrupt(int type, int flags, int sourceBus, int sourceIrq, int destApic, int destPin) {
    }

    record Config(long floatingPointerAddress, long configAddress, int specRevision, String oem, String product,
            long localApic, List<Processor> processors, List<Bus> buses, List<IoApicEntry> ioApics,
            List<Interrupt> ioInterrupts, List<Interrupt> localInterrupts) {
    }

    private GuestMpParser() {
    }

    /** Scans {@code [scanFrom, scanFrom + scanLength)} of {@code memory} (which starts at physical {@code base}). */
    static Optional<Config> scan(byte[] memory, long base, long scanFrom, int scanLength) {
        for (long a = scanFrom; a + 16 <= scanFrom + scanLength; a += 16) {
            int off = (int) (a - base);
            if (ascii(memory, off, 4).equals("_MP_") && u8(memory, off + 8) == 1 && sum(memory, off, 16) == 0
                    && (u8(memory, off + 9) == 1 || u8(memory, off + 9) == 4)) {
                return Optional.of(parse(memory, base, a));
            }
        }
        return Optional.empty();
    }

    static Config parse(byte[] memory, long base, long fpAddress) {
        int fp = (int) (fpAddress - base);
        if (u8(memory, fp + 11) != 0) {
            throw new IllegalStateException("default configuration " + u8(memory, fp + 11) + " instead of a table");
        }
        long cfgAddress = u32(memory, fp + 4);
        int c = (int) (cfgAddress - base);
        if (!ascii(memory, c, 4).equals("PCMP")) {
            throw new IllegalStateException("no PCMP signature at 0x" + Long.toHexString(cfgAddress));
        }
        int length = u16(memory, c + 4);
        if (sum(memory, c, length) != 0) {
            throw new IllegalStateException("PCMP checksum error");
        }
        int count = u16(memory, c + 34);
        List<Processor> procs = new ArrayList<>();
        List<Bus> buses = new ArrayList<>();
        List<IoApicEntry> ioapics = new ArrayList<>();
        List<Interrupt> ioInts = new ArrayList<>();
        List<Interrupt> localInts = new ArrayList<>();
        int p = c + 44;
        int lastType = -1;
        for (int i = 0; i < count; i++) {
            int type = u8(memory, p);
            if (type < lastType) {
                throw new IllegalStateException("entries not in type order");
            }
            lastType = type;
            switch (type) {
                case 0 -> {
                    procs.add(new Processor(u8(memory, p + 1), u8(memory, p + 2), u8(memory, p + 3), u32(memory, p + 4),
                            u32(memory, p + 8)));
                    p += 20;
                }
                case 1 -> {
                    buses.add(new Bus(u8(memory, p + 1), ascii(memory, p + 2, 6)));
                    p += 8;
                }
                case 2 -> {
                    ioapics.add(new IoApicEntry(u8(memory, p + 1), u8(memory, p + 2), u8(memory, p + 3), u32(memory, p + 4)));
                    p += 8;
                }
                case 3, 4 -> {
                    Interrupt in = new Interrupt(u8(memory, p + 1), u16(memory, p + 2), u8(memory, p + 4), u8(memory, p + 5),
                            u8(memory, p + 6), u8(memory, p + 7));
                    (type == 3 ? ioInts : localInts).add(in);
                    p += 8;
                }
                default -> throw new IllegalStateException("unknown MP entry type " + type);
            }
        }
        if (p - c != length) {
            throw new IllegalStateException("entries end at " + (p - c) + ", table length " + length);
        }
        return new Config(fpAddress, cfgAddress, u8(memory, c + 6), ascii(memory, c + 8, 8), ascii(memory, c + 16, 12),
                u32(memory, c + 36), procs, buses, ioapics, ioInts, localInts);
    }
}
