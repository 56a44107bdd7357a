package dev.jkvm.vmm.firmware;

import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.GuestMemory;
import java.util.OptionalLong;

/**
 * A second copy of the ACPI RSDP in the BIOS area 0xE0000-0xFFFFF, where PC firmware (SeaBIOS
 * under QEMU) puts it and where many small kernels look for it alone. The first copy stays in the
 * EBDA, which the ACPI spec has an OS search first; both name the same RSDT and XSDT.
 *
 * <p>The BIOS area is the ROM's alias, so the copy goes into 16 free bytes-aligned space the ROM
 * leaves (all 0xFF, its fill), found once from the top of the F segment's first half down, as
 * SeaBIOS's tables sit in the F segment. Only for kernel boots: a ROM guest runs the firmware
 * whose bytes these are, and that firmware places its own tables.
 */
public final class BiosAreaRsdp {

    /** Where the search starts and ends: the F segment (below a 64 KiB ROM the E segment is RAM, not the ROM). */
    static final long SEARCH_START = Layout.BIOS_SEGMENT;
    static final long SEARCH_END = Layout.HIGH_RAM_START - 16; // the reset vector's paragraph is never free

    private BiosAreaRsdp() {
    }

    /**
     * A 16-byte aligned address in the F segment whose {@code length} bytes are all 0xFF in the
     * ROM, or empty when the ROM leaves no such room (or does not reach the F segment).
     */
    public static OptionalLong findRoom(GuestMemory memory, int length) {
        if (!memory.isBacked(SEARCH_START, SEARCH_END - SEARCH_START)) {
            return OptionalLong.empty();
        }
        byte[] area = memory.read(SEARCH_START, (int) (SEARCH_END - SEARCH_START));
        int span = (length + 15) & -16;
        for (int at = 0x5000; at + span + 16 <= area.length; at += 16) { // from 0xF5000, near where SeaBIOS puts it
            if (allFree(area, at - 16, span + 32)) { // a free paragraph either side: not the tail of some table
                return OptionalLong.of(SEARCH_START + at);
            }
        }
        return OptionalLong.empty();
    }

    private static boolean allFree(byte[] area, int from, int length) {
        if (from < 0) {
            return false;
        }
        for (int i = from; i < from + length; i++) {
            if (area[i] != (byte) 0xff) {
                return false;
            }
        }
        return true;
    }
}
