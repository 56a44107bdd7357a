package dev.jkvm.vmm.memory;

import dev.jkvm.vmm.board.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The guest-physical memory map, laid out as QEMU's {@code pc} machine does (the addresses are
 * {@link Layout}'s); the one description
 * every table the guest reads (e820, CMOS, fw_cfg, ...) is derived from.
 *
 * <ul>
 *   <li>RAM from 0 to 640 KiB ({@code ram-low}), then the VGA window (MMIO, nothing there);</li>
 *   <li>QEMU's {@code pc.rom} at 0xC0000-0xDFFFF, zeros the guest can only read (where option
 *       ROMs sit), and RAM from 0xE0000 up to the ROM's alias when the ROM is smaller than 128 KiB
 *       ({@code ram-isa}, not in e820): the legacy area is memory, so the scans an OS makes of it
 *       (option ROMs every 2 KiB, SMBIOS, MP and RSDP every 16 bytes) never exit to jkvm;</li>
 *   <li>RAM from 1 MiB up to the top of low memory ({@code ram}): all of it when the guest has
 *       less than 3.5 GiB, else only up to 3 GiB, and the rest from 4 GiB ({@code ram-high}),
 *       which leaves the 32-bit hole for MMIO, the I/O APIC, the local APIC and the firmware;</li>
 *   <li>the firmware ROM ending at 4 GiB ({@code bios}), and its last 128 KiB also ending at
 *       1 MiB ({@code isa-bios}), where a CPU coming out of reset in real mode expects it.</li>
 * </ul>
 *
 * <pre>{@code
 * MemoryMap map = MemoryMap.pc(128 << 20, 64 << 10);
 * map.regions().forEach(System.out::println);
 * }</pre>
 */
public record MemoryMap(long ramSize, long romSize, List<Region> regions) {

    public static final long KIB = 1024;
    public static final long MIB = 1024 * KIB;
    public static final long GIB = 1024 * MIB;

    /** Page size of every region. */
    public static final long PAGE = 4 * KIB;

    public MemoryMap {
        regions = List.copyOf(regions);
    }

    /**
     * The {@code pc} layout for {@code ramSize} bytes of RAM and a ROM of {@code romSize} bytes
     * (rounded up to a page; 0 for no ROM).
     */
    public static MemoryMap pc(long ramSize, long romSize) {
        if (ramSize < Layout.HIGH_RAM_START + PAGE || (ramSize & (PAGE - 1)) != 0) {
            throw new IllegalArgumentException("RAM size must be a multiple of 4 KiB and larger than 1 MiB");
        }
        if (romSize < 0 || romSize > Layout.MAX_ROM_SIZE) {
            throw new IllegalArgumentException("ROM size " + romSize + " exceeds the " + (Layout.MAX_ROM_SIZE / MIB) + " MiB ROM window");
        }
        long below4g = ramSize >= Layout.SPLIT_THRESHOLD ? Layout.LOW_MEMORY_SPLIT : ramSize;
        long above4g = ramSize - below4g;
        List<Region> regions = new ArrayList<>();
        regions.add(new Region("ram-low", 0, Layout.LOW_RAM_END, Region.Kind.RAM));
        regions.add(new Region("pc.rom", Layout.OPTION_ROM_START, Layout.OPTION_ROM_END - Layout.OPTION_ROM_START,
                Region.Kind.OPTION_ROM));
        regions.add(new Region("ram", Layout.HIGH_RAM_START, below4g - Layout.HIGH_RAM_START, Region.Kind.RAM));
        if (above4g > 0) {
            regions.add(new Region("ram-high", Layout.FOUR_GIB, above4g, Region.Kind.RAM));
        }
        long rom = (romSize + PAGE - 1) & -PAGE;
        long isa = Math.min(rom, Layout.ISA_BIOS_MAX);
        if (isa < Layout.ISA_BIOS_MAX) {
            // QEMU's low RAM shows through where its isa-bios alias does not reach
            regions.add(new Region("ram-isa", Layout.ISA_BIOS_START, Layout.ISA_BIOS_MAX - isa, Region.Kind.UNLISTED_RAM));
        }
        if (rom > 0) {
            regions.add(new Region("isa-bios", Layout.HIGH_RAM_START - isa, isa, Region.Kind.ROM_ALIAS));
            regions.add(new Region("bios", Layout.FOUR_GIB - rom, rom, Region.Kind.ROM));
        }
        regions.sort((a, b) -> Long.compareUnsigned(a.base(), b.base()));
        return new MemoryMap(ramSize, rom, regions);
    }

    /** The region holding {@code [address, address + length)}, if one holds all of it. */
    public Optional<Region> regionOf(long address, long length) {
        for (Region r : regions) {
            if (r.contains(address, length)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** The regions of one kind, in address order. */
    public List<Region> regions(Region.Kind kind) {
        return regions.stream().filter(r -> r.kind() == kind).toList();
    }

    /** RAM below 4 GiB, counting the part under 640 KiB and from 1 MiB. */
    public long ramBelow4g() {
        return ramSize >= Layout.SPLIT_THRESHOLD ? Layout.LOW_MEMORY_SPLIT : ramSize;
    }

    /** RAM from 4 GiB up. */
    public long ramAbove4g() {
        return ramSize - ramBelow4g();
    }
}
