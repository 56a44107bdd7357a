package dev.jkvm.vmm.memory;

import dev.jkvm.vmm.board.Layout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest's physical memory map as firmware reports it (the BIOS {@code e820} call), derived once
 * from the {@link MemoryMap} plus the ranges the machine sets aside (ACPI tables, the KVM TSS
 * pages, ...), and encoded for every consumer: the Linux zero page, Multiboot, PVH, fw_cfg.
 *
 * <p>The legacy area is shown as SeaBIOS shows it under QEMU: RAM up to {@link Layout#EBDA_START}, the
 * last KiB below 640 KiB reserved for the EBDA, the BIOS segment {@code 0xF0000-0xFFFFF} reserved,
 * and the firmware ROM below 4 GiB reserved; the rest of the legacy area (VGA, {@code pc.rom}, the
 * RAM under a small ROM) is in no entry. Entries are sorted, never overlap, and adjacent
 * entries of one type are merged.
 *
 * <pre>{@code
 * E820 e820 = E820.of(map, List.of(E820.Entry.acpi(0x7fe0000, 0x20000)));
 * byte[] zeroPageTable = e820.linuxBootParams();
 * }</pre>
 *
 * @param entries the map, in address order
 */
public record E820(List<Entry> entries) {

    /** Usable RAM. */
    public static final int RAM = 1;
    /** Reserved: not for the OS. */
    public static final int RESERVED = 2;
    /** ACPI tables: reclaimable once the OS has read them. */
    public static final int ACPI = 3;
    /** ACPI non-volatile storage. */
    public static final int NVS = 4;
    /** Memory with errors. */
    public static final int UNUSABLE = 5;

    /** Bytes of one Linux zero-page / fw_cfg entry: u64 addr, u64 size, u32 type, packed. */
    public static final int PACKED_ENTRY_SIZE = 20;
    /** Bytes of one Multiboot mmap entry (u32 size = 20 first, then the packed entry). */
    public static final int MULTIBOOT_ENTRY_SIZE = 24;
    /** Bytes of one PVH {@code hvm_memmap_table_entry}: u64 addr, u64 size, u32 type, u32 reserved. */
    public static final int PVH_ENTRY_SIZE = 24;
    /** How many entries the Linux zero page holds ({@code E820_MAX_ENTRIES_ZEROPAGE}). */
    public static final int LINUX_MAX_ENTRIES = 128;

    /**
     * One range.
     *
     * @param base first address
     * @param size length in bytes (positive)
     * @param type {@link #RAM}, {@link #RESERVED}, {@link #ACPI}, ...
     */
    public record Entry(long base, long size, int type) {
        public Entry {
            if (base < 0 || size <= 0 || base + size < base || type <= 0) {
                throw new IllegalArgumentException(String.format("bad e820 entry 0x%x+0x%x type %d", base, size, type));
            }
        }

        public static Entry ram(long base, long size) {
            return new Entry(base, size, RAM);
        }

        public static Entry reserved(long base, long size) {
            return new Entry(base, size, RESERVED);
        }

        public static Entry acpi(long base, long size) {
            return new Entry(base, size, ACPI);
        }

        /** The first address past the entry. */
        public long end() {
            return base + size;
        }

        /** Whether {@code [address, address + length)} lies inside this entry. */
        public boolean contains(long address, long length) {
            return address >= base && length >= 0 && address - base <= size - length;
        }

        @Override
        public String toString() {
            return String.format("[mem 0x%016x-0x%016x] %s", base, end() - 1, typeName(type));
        }
    }

    public E820 {
        entries = List.copyOf(entries);
    }

    /**
     * The map of {@code map}, with {@code extra} ranges laid over it: an extra entry replaces
     * whatever the base map says for its range (so an ACPI range carved out of RAM stops being RAM).
     */
    public static E820 of(MemoryMap map, List<Entry> extra) {
        List<Entry> painted = new ArrayList<>();
        for (Region r : map.regions(Region.Kind.RAM)) {
            if (r.base() == 0) {
                // The EBDA's KiB is RAM to the VMM but reserved to the guest, as SeaBIOS reports it.
                long usable = Math.min(r.end(), Layout.EBDA_START);
                painted.add(Entry.ram(0, usable));
                if (r.end() > Layout.EBDA_START) {
                    painted.add(Entry.reserved(Layout.EBDA_START, r.end() - Layout.EBDA_START));
                }
            } else {
                painted.add(Entry.ram(r.base(), r.size()));
            }
        }
        paint(painted, Entry.reserved(Layout.BIOS_SEGMENT, Layout.HIGH_RAM_START - Layout.BIOS_SEGMENT));
        for (Region r : map.regions(Region.Kind.ROM)) {
            paint(painted, Entry.reserved(r.base(), r.size()));
        }
        for (Entry e : extra) {
            paint(painted, e);
        }
        return new E820(merged(painted));
    }

    /**
     * The PC's map as every consumer gets it: {@code map}, with the firmware tables from
     * {@code tablesBase} up to the EBDA and KVM's identity-map and TSS pages reserved.
     */
    public static E820 pc(MemoryMap map, long tablesBase) {
        List<Entry> extra = new ArrayList<>();
        if (tablesBase < Layout.EBDA_START) {
            extra.add(Entry.reserved(tablesBase, Layout.EBDA_START - tablesBase));
        }
        extra.add(Entry.reserved(Layout.IDENTITY_MAP, Layout.KVM_PRIVATE_SIZE));
        return of(map, extra);
    }

    /** Lays {@code top} over {@code entries}: what it covers is cut out of them, then it is added. */
    private static void paint(List<Entry> entries, Entry top) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.end() <= top.base() || e.base() >= top.end()) {
                out.add(e);
                continue;
            }
            if (e.base() < top.base()) {
                out.add(new Entry(e.base(), top.base() - e.base(), e.type()));
            }
            if (e.end() > top.end()) {
                out.add(new Entry(top.end(), e.end() - top.end(), e.type()));
            }
        }
        out.add(top);
        entries.clear();
        entries.addAll(out);
    }

    private static List<Entry> merged(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compare(a.base(), b.base())); // not Comparator's lambda: spun at start-up, not cached
        List<Entry> out = new ArrayList<>();
        for (Entry e : sorted) {
            Entry last = out.isEmpty() ? null : out.getLast();
            if (last != null && last.type() == e.type() && last.end() == e.base()) {
                out.set(out.size() - 1, new Entry(last.base(), last.size() + e.size(), last.type()));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    /** The usable RAM ranges, in address order. */
    public List<Entry> usable() {
        return entries.stream().filter(e -> e.type() == RAM).toList();
    }

    /** The entry holding {@code address}, or null in a hole. */
    public Entry entryAt(long address) {
        for (Entry e : entries) {
            if (e.contains(address, 1)) {
                return e;
            }
        }
        return null;
    }

    /** The usable RAM from {@code address} up to the first byte that is not (0 if {@code address} is not RAM). */
    public long usableFrom(long address) {
        Entry e = entryAt(address);
        return e != null && e.type() == RAM ? e.end() - address : 0;
    }

    /**
     * The Linux zero page's {@code e820_table}: {@link #PACKED_ENTRY_SIZE} bytes an entry; the
     * count goes into {@code e820_entries}.
     *
     * @throws IllegalStateException beyond {@link #LINUX_MAX_ENTRIES} entries
     */
    public byte[] linuxBootParams() {
        if (entries.size() > LINUX_MAX_ENTRIES) {
            throw new IllegalStateException(entries.size() + " e820 entries, the zero page holds " + LINUX_MAX_ENTRIES);
        }
        return packed();
    }

    /** QEMU's fw_cfg file {@code etc/e820}: packed {@code struct e820_entry} (u64 address, u64 length, u32 type). */
    public byte[] fwCfg() {
        return packed();
    }

    private byte[] packed() {
        ByteBuffer b = buffer(entries.size() * PACKED_ENTRY_SIZE);
        for (Entry e : entries) {
            b.putLong(e.base()).putLong(e.size()).putInt(e.type());
        }
        return b.array();
    }

    /**
     * Multiboot v1 {@code mmap} entries: u32 size (20, not counting itself), u64 base_addr,
     * u64 length, u32 type. {@code mmap_length} is the array's length.
     */
    public byte[] multiboot() {
        ByteBuffer b = buffer(entries.size() * MULTIBOOT_ENTRY_SIZE);
        for (Entry e : entries) {
            b.putInt(PACKED_ENTRY_SIZE).putLong(e.base()).putLong(e.size()).putInt(e.type());
        }
        return b.array();
    }

    /** PVH {@code hvm_memmap_table_entry} array (start_info version 1): u64 addr, u64 size, u32 type, u32 0. */
    public byte[] pvh() {
        ByteBuffer b = buffer(entries.size() * PVH_ENTRY_SIZE);
        for (Entry e : entries) {
            b.putLong(e.base()).putLong(e.size()).putInt(e.type()).putInt(0);
        }
        return b.array();
    }

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The name Linux prints for a type ({@code usable}, {@code reserved}, {@code ACPI data}, ...). */
    public static String typeName(int type) {
        return switch (type) {
            case RAM -> "usable";
            case RESERVED -> "reserved";
            case ACPI -> "ACPI data";
            case NVS -> "ACPI NVS";
            case UNUSABLE -> "unusable";
            default -> "type " + type;
        };
    }

    /** One line per entry, as Linux prints them at boot. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            sb.append(e).append('\n');
        }
        return sb.toString();
    }
}
