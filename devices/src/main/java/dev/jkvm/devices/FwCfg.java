package dev.jkvm.devices;

import dev.jkvm.devices.state.SavesState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * QEMU's firmware configuration device ({@code fw_cfg}), I/O-port interface: how firmware (SeaBIOS,
 * OVMF), Linux's {@code qemu_fw_cfg} driver and test kernels learn the RAM size, CPU count, E820 map,
 * ACPI tables and named blobs of the machine.
 *
 * <p>Ports (offset from base 0x510, as QEMU's combined region): a 16-bit write at offset 0 selects an
 * item and rewinds its read position; each byte read at offset 1 (or 0) returns the item's next byte,
 * or 0 past its end or for a selector with no item. A wider read returns that many successive bytes,
 * the first in the low byte. Byte writes (the old write channel, removed in QEMU 2.4) are ignored, as
 * are other write sizes. DMA is not offered: {@code FW_CFG_ID} reads 1 (traditional interface only), so
 * guests use port reads.
 *
 * <p>Items: keys 0x0000-0x001f are QEMU's fixed items ({@link #SIGNATURE} "QEMU", {@link #ID},
 * {@link #RAM_SIZE}, {@link #NB_CPUS}, {@link #MAX_CPUS} set by the constructor, others through
 * {@link #addItem}); keys 0x8000-0x801f are the x86 ones ({@link #E820_TABLE} etc.); named files get
 * keys from {@link #FILE_FIRST} (0x0020) up in the order added, listed in {@link #FILE_DIR}: a
 * big-endian u32 count, then per file {u32 size, u16 select, u16 reserved} big-endian and a 56-byte
 * NUL-padded name. Selector bit 14 (write channel) is ignored when selecting.
 *
 * <p>Threads: items may be added at any time (copy on write, published through one volatile field);
 * the read cursor belongs to the guest, which serializes its accesses as it must on real hardware.
 * Guest accesses take no lock and allocate nothing.
 *
 * <pre>{@code
 * FwCfg fw = new FwCfg(128L << 20, 1, 1);
 * fw.addFile("etc/e820", FwCfg.e820(List.of(new FwCfg.E820Entry(0, 0x9fc00, 1))));
 * bus.register(FwCfg.DEFAULT_BASE, FwCfg.PORT_COUNT, fw);
 * }</pre>
 */
public final class FwCfg implements PortIoDevice, SavesState<FwCfg.State> {

    /** QEMU's fw_cfg I/O base on x86. */
    public static final int DEFAULT_BASE = 0x510;
    /** Ports claimed: selector (16 bits at the base) and data (base + 1). */
    public static final int PORT_COUNT = 2;

    public static final int SIGNATURE = 0x0000;
    public static final int ID = 0x0001;
    public static final int UUID = 0x0002;
    public static final int RAM_SIZE = 0x0003;
    public static final int NOGRAPHIC = 0x0004;
    public static final int NB_CPUS = 0x0005;
    public static final int MACHINE_ID = 0x0006;
    public static final int KERNEL_ADDR = 0x0007;
    public static final int KERNEL_SIZE = 0x0008;
    public static final int KERNEL_CMDLINE = 0x0009;
    public static final int INITRD_ADDR = 0x000a;
    public static final int INITRD_SIZE = 0x000b;
    public static final int BOOT_DEVICE = 0x000c;
    public static final int NUMA = 0x000d;
    public static final int BOOT_MENU = 0x000e;
    public static final int MAX_CPUS = 0x000f;
    public static final int KERNEL_ENTRY = 0x0010;
    public static final int KERNEL_DATA = 0x0011;
    public static final int INITRD_DATA = 0x0012;
    public static final int CMDLINE_ADDR = 0x0013;
    public static final int CMDLINE_SIZE = 0x0014;
    public static final int CMDLINE_DATA = 0x0015;
    public static final int SETUP_ADDR = 0x0016;
    public static final int SETUP_SIZE = 0x0017;
    public static final int SETUP_DATA = 0x0018;
    public static final int FILE_DIR = 0x0019;
    /** The first file selector. */
    public static final int FILE_FIRST = 0x0020;
    /** Flag of the architecture-specific keys. */
    public static final int ARCH_LOCAL = 0x8000;
    public static final int ACPI_TABLES = ARCH_LOCAL;
    public static final int SMBIOS_ENTRIES = ARCH_LOCAL + 1;
    public static final int IRQ0_OVERRIDE = ARCH_LOCAL + 2;
    public static final int E820_TABLE = ARCH_LOCAL + 3;
    public static final int HPET = ARCH_LOCAL + 4;

    /** {@code FW_CFG_ID} bit 0: the port interface. (Bit 1, DMA, is not offered.) */
    public static final int ID_TRADITIONAL = 0x01;
    /** Longest file name, without its terminating NUL. */
    public static final int MAX_NAME_BYTES = 55;
    /** Highest number of files (keys 0x0020-0x3fff). */
    public static final int MAX_FILES = 0x4000 - FILE_FIRST;

    private static final int WRITE_CHANNEL = 0x4000;
    private static final int KEY_INDEX_MASK = 0x3fff;
    private static final int DIR_ENTRY_SIZE = 64;
    private static final byte[] NONE = new byte[0];

    /** One E820 map entry: {@code type} 1 RAM, 2 reserved, 3 ACPI, 4 NVS. */
    public record E820Entry(long address, long length, int type) {
    }

    /** A file as listed in the directory. */
    public record File(String name, int select, int size) {
    }

    /** Immutable item tables, replaced wholesale when an item is added. */
    private record Items(byte[][] generic, byte[][] arch, List<File> files) {
    }

    private volatile Items items = new Items(new byte[FILE_FIRST][], new byte[FILE_FIRST][], List.of());

    // The guest's cursor (volatile: the monitor thread reads it for describe()).
    private volatile int selector;
    private volatile byte[] current = NONE;
    private volatile int position;

    /**
     * A fw_cfg with the signature, the ID and the machine's RAM size and CPU counts.
     *
     * @param ramSize total RAM in bytes ({@code FW_CFG_RAM_SIZE})
     * @param cpus    CPUs present at boot ({@code FW_CFG_NB_CPUS})
     * @param maxCpus the most CPUs the machine may have ({@code FW_CFG_MAX_CPUS})
     */
    public FwCfg(long ramSize, int cpus, int maxCpus) {
        addItem(SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        addItem(ID, le(ID_TRADITIONAL, 4));
        addItem(RAM_SIZE, le(ramSize, 8));
        addItem(NB_CPUS, le(cpus, 2));
        addItem(MAX_CPUS, le(maxCpus, 2));
        synchronized (this) {
            rebuildDirectoryLocked();
        }
    }

    @Override
    public String name() {
        return "fw_cfg";
    }

    // ---------------------------------------------------------------------------------------------
    // Guest side

    @Override
    public int read(int offset, int size) {
        if (offset > 1) {
            return -1;
        }
        byte[] data = current;
        int pos = position;
        int value = 0;
        for (int i = 0; i < size; i++) {
            if (pos < data.length) {
                value |= (data[pos++] & 0xff) << (8 * i);
            }
        }
        position = pos;
        return value;
    }

    @Override
    public void write(int offset, int size, int value) {
        if (offset == 0 && size == 2) {
            select(value & 0xffff);
        }
        // Byte writes: the write channel, gone since QEMU 2.4; anything else is not a valid access.
    }

    private void select(int key) {
        selector = key;
        byte[] data = lookup(items, key & ~WRITE_CHANNEL);
        current = data == null ? NONE : data;
        position = 0;
    }

    /** The guest's cursor: the selected item and how far into it the guest has read. */
    public record State(int selector, int position) {
    }

    /** The cursor now (the items are the machine's description, not state). */
    @Override
    public State saveState() {
        return new State(selector, position);
    }

    /** Selects the saved item again and moves to the saved position. */
    @Override
    public synchronized void restoreState(State s) {
        select(s.selector() & 0xffff);
        position = Math.max(0, s.position());
    }

    private static byte[] lookup(Items t, int key) {
        int i = key & KEY_INDEX_MASK;
        byte[][] table = (key & ARCH_LOCAL) != 0 ? t.arch : t.generic;
        return i < table.length ? table[i] : null;
    }

    // ---------------------------------------------------------------------------------------------
    // Host side

    /**
     * Sets (or replaces) the item at a fixed key: 0x0000-0x0018 or 0x8000-0x801f. The data is copied.
     * Files go through {@link #addFile}; the directory (0x0019) is maintained here.
     *
     * @throws IllegalArgumentException for another key
     */
    public synchronized void addItem(int key, byte[] data) {
        Objects.requireNonNull(data, "data");
        boolean arch = (key & ~0x1f) == ARCH_LOCAL;
        if (!arch && (key < 0 || key >= FILE_DIR)) {
            throw new IllegalArgumentException(String.format(
                    "fw_cfg key 0x%04x is not a fixed item key (0x0000-0x0018, 0x8000-0x801f)", key));
        }
        Items t = items;
        byte[][] generic = t.generic;
        byte[][] archTable = t.arch;
        if (arch) {
            archTable = archTable.clone();
            archTable[key & 0x1f] = data.clone();
        } else {
            generic = generic.clone();
            generic[key] = data.clone();
        }
        items = new Items(generic, archTable, t.files);
    }

    /**
     * Adds a named file (e.g. {@code etc/e820}, {@code etc/acpi/tables}) under the next free selector
     * and lists it in the directory. The data is copied.
     *
     * @return the file's selector
     * @throws IllegalArgumentException if the name is empty, longer than 55 bytes in UTF-8, or taken
     */
    public synchronized int addFile(String name, byte[] data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length == 0 || nameBytes.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException(
                    "fw_cfg file name must be 1-" + MAX_NAME_BYTES + " bytes: \"" + name + "\"");
        }
        Items t = items;
        for (File f : t.files) {
            if (f.name().equals(name)) {
                throw new IllegalArgumentException("fw_cfg file \"" + name + "\" already exists");
            }
        }
        if (t.files.size() >= MAX_FILES) {
            throw new IllegalArgumentException("too many fw_cfg files: " + MAX_FILES);
        }
        int select = FILE_FIRST + t.files.size();
        byte[][] generic = Arrays.copyOf(t.generic, select + 1);
        generic[select] = data.clone();
        List<File> files = new ArrayList<>(t.files);
        files.add(new File(name, select, data.length));
        items = new Items(generic, t.arch, List.copyOf(files));
        rebuildDirectoryLocked();
        return select;
    }

    /** The files added so far, in selector order. */
    public List<File> files() {
        return items.files;
    }

    /** The current bytes of an item or file, or {@code null}; for tests and the monitor. */
    public byte[] item(int key) {
        byte[] data = lookup(items, key);
        return data == null ? null : data.clone();
    }

    private void rebuildDirectoryLocked() {
        Items t = items;
        byte[] dir = new byte[4 + DIR_ENTRY_SIZE * t.files.size()];
        putBe(dir, 0, t.files.size(), 4);
        int at = 4;
        for (File f : t.files) {
            putBe(dir, at, f.size(), 4);
            putBe(dir, at + 4, f.select(), 2);
            byte[] n = f.name().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(n, 0, dir, at + 8, n.length); // rest stays NUL
            at += DIR_ENTRY_SIZE;
        }
        byte[][] generic = t.generic.clone();
        generic[FILE_DIR] = dir;
        items = new Items(generic, t.arch, t.files);
    }

    /** The {@code etc/e820} encoding: per entry u64 address, u64 length, u32 type, little-endian. */
    public static byte[] e820(List<E820Entry> entries) {
        byte[] out = new byte[20 * entries.size()];
        int at = 0;
        for (E820Entry e : entries) {
            System.arraycopy(le(e.address(), 8), 0, out, at, 8);
            System.arraycopy(le(e.length(), 8), 0, out, at + 8, 8);
            System.arraycopy(le(e.type(), 4), 0, out, at + 16, 4);
            at += 20;
        }
        return out;
    }

    /** {@code value} as {@code n} little-endian bytes. */
    public static byte[] le(long value, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return b;
    }

    private static void putBe(byte[] b, int at, long value, int n) {
        for (int i = 0; i < n; i++) {
            b[at + i] = (byte) (value >>> (8 * (n - 1 - i)));
        }
    }

    /** {@code fw_cfg: select=0x0019 pos=4/132 items=5 files=2}; no side effects. */
    @Override
    public String describe() {
        Items t = items;
        int count = 0;
        for (byte[] b : t.generic) {
            count += b == null ? 0 : 1;
        }
        for (byte[] b : t.arch) {
            count += b == null ? 0 : 1;
        }
        return String.format("%s: select=0x%04x pos=%d/%d items=%d files=%d",
                name(), selector, position, current.length, count, t.files.size());
    }

    @Override
    public String toString() {
        return describe();
    }
}
