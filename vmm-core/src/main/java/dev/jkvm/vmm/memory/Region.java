package dev.jkvm.vmm.memory;

/**
 * One contiguous range of the guest-physical address space.
 *
 * @param name what the region is ({@code ram-low}, {@code pc.rom}, {@code ram-isa}, {@code isa-bios}, {@code ram},
 *             {@code bios}, {@code ram-high})
 * @param base the guest-physical address of its first byte
 * @param size its length in bytes (a multiple of the page size)
 * @param kind what backs it
 */
public record Region(String name, long base, long size, Kind kind) {

    /** What backs a region. */
    public enum Kind {
        /** Guest RAM: anonymous memory, reserved and touched on demand. */
        RAM,
        /** Firmware ROM: read-only to the guest; writes reach the VMM as MMIO exits. */
        ROM,
        /** A read-only alias of the last bytes of the firmware ROM (the PC's 0xE0000-0xFFFFF window). */
        ROM_ALIAS,
        /** QEMU's {@code pc.rom}: memory of its own, read-only to the guest (writes are MMIO exits jkvm drops). */
        OPTION_ROM,
        /** RAM the firmware does not report: QEMU's low RAM where no ROM alias covers 0xE0000-0xFFFFF. */
        UNLISTED_RAM;

        /** Whether the guest's writes reach the memory (a KVM slot without {@code KVM_MEM_READONLY}). */
        public boolean guestWritable() {
            return this == RAM || this == UNLISTED_RAM;
        }
    }

    public Region {
        if (size <= 0 || (base & 0xfff) != 0 || (size & 0xfff) != 0) {
            throw new IllegalArgumentException(name + ": base " + Long.toHexString(base) + " size "
                    + Long.toHexString(size) + " must be page-aligned and non-empty");
        }
    }

    /** The first address past the region. */
    public long end() {
        return base + size;
    }

    /** Whether {@code [address, address + length)} lies inside this region. */
    public boolean contains(long address, long length) {
        return address >= base && length >= 0 && address - base <= size - length;
    }
}
