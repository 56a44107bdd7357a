package dev.jkvm.vmm.boot;

import dev.jkvm.kvm.Segment;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The flat GDT every loader installs, and the hidden segment state KVM needs for each selector,
 * derived from the very descriptor bytes the guest can read (so a reload changes nothing).
 * Selectors follow Linux's boot protocol: {@code __BOOT_CS} 0x10, {@code __BOOT_DS} 0x18.
 */
final class Gdt {

    static final int CODE_SELECTOR = 0x10;
    static final int DATA_SELECTOR = 0x18;

    /** 32-bit code: base 0, limit 4 GiB, present, ring 0, execute/read, accessed. */
    static final long CODE32 = 0x00cf_9b00_0000_ffffL;
    /** 64-bit code: as {@link #CODE32} with L set and D clear. */
    static final long CODE64 = 0x00af_9b00_0000_ffffL;
    /** Data: base 0, limit 4 GiB, present, ring 0, read/write, accessed, 32-bit. */
    static final long DATA = 0x00cf_9300_0000_ffffL;

    private Gdt() {
    }

    /** The four descriptors: null, null, code at 0x10, data at 0x18. */
    static List<Long> flat(boolean longMode) {
        return List.of(0L, 0L, longMode ? CODE64 : CODE32, DATA);
    }

    static byte[] bytes(List<Long> descriptors) {
        ByteBuffer b = ByteBuffer.allocate(descriptors.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        descriptors.forEach(b::putLong);
        return b.array();
    }

    /** Writes {@code descriptors} at {@link Layout#BOOT_GDT}. */
    static void write(GuestMemory memory, List<Long> descriptors) {
        memory.write(Layout.BOOT_GDT, bytes(descriptors));
    }

    /** The segment register state a load of {@code selector} (naming {@code descriptor}) produces. */
    static Segment segment(int selector, long descriptor) {
        long base = ((descriptor >>> 16) & 0xff_ffffL) | ((descriptor >>> 32) & 0xff00_0000L);
        int rawLimit = (int) ((descriptor & 0xffff) | ((descriptor >>> 32) & 0xf_0000));
        boolean g = bit(descriptor, 55);
        // KVM takes the limit in bytes: with 4 KiB granularity the low 12 bits are all ones.
        int limit = g ? (rawLimit << 12) | 0xfff : rawLimit;
        return new Segment(base, limit, selector, (int) ((descriptor >>> 40) & 0xf), bit(descriptor, 47),
                (int) ((descriptor >>> 45) & 3), bit(descriptor, 54), bit(descriptor, 44), bit(descriptor, 53), g,
                bit(descriptor, 52), false);
    }

    /** A busy 32/64-bit TSS at 0 of 0x68 bytes: what VMX demands of TR, and what PVH specifies. */
    static Segment taskRegister() {
        return new Segment(0, 0x67, 0, 11, true, 0, false, false, false, false, false, false);
    }

    private static boolean bit(long value, int bit) {
        return ((value >>> bit) & 1) != 0;
    }
}
