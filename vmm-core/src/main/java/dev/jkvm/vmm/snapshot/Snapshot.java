package dev.jkvm.vmm.snapshot;

import dev.jkvm.devices.state.StateCodec;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.board.PcDevices;
import dev.jkvm.vmm.memory.MemoryImage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A saved machine: its description, its memory (sparse), every vCPU's and the VM's KVM state and
 * every device's state. {@link dev.jkvm.vmm.Machine#snapshot()} makes one,
 * {@link dev.jkvm.vmm.Machine#restore} and {@link dev.jkvm.vmm.Machine#create(dev.jkvm.vmm.MachineConfig, Snapshot)}
 * put one back; {@link #save} and {@link #load} keep one in a file.
 *
 * <p>The file: the magic {@code JKVMSNAP}, a format version, then length-prefixed sections (the
 * machine description, each vCPU, the VM, the devices, the optional test devices), the memory regions (base, size, the
 * indices of the pages that are not all zeros, those pages), a CRC-32C of everything before it,
 * and {@code JKVMEND}. {@link #load} checks all of it before it returns, so a truncated, corrupt or
 * foreign file is refused before anything is restored.
 */
public final class Snapshot {

    /**
     * The format this jkvm writes and reads. 2: the memory regions include the legacy ROM area
     * (0xc0000-0xfffff is memory since 31c6de1), so a version 1 file lacks regions this machine has;
     * it is refused by its version, not by a count of regions that reads like a corrupt file.
     */
    public static final int VERSION = 2;
    private static final byte[] MAGIC = "JKVMSNAP".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "JKVMEND\0".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SECTION = 64 << 20;
    private static final int MAX_VCPUS = 1024;
    private static final long PAGE = 4096;

    private final MachineDescription machine;
    private final MemoryImage memory;
    private final List<VcpuState> vcpus;
    private final VmState vm;
    private final PcDevices.State devices;
    private final OptionalDevices optional;

    public Snapshot(MachineDescription machine, MemoryImage memory, List<VcpuState> vcpus, VmState vm,
                    PcDevices.State devices, OptionalDevices optional) {
        this.machine = machine;
        this.memory = memory;
        this.vcpus = List.copyOf(vcpus);
        this.vm = vm;
        this.devices = devices;
        this.optional = optional;
    }

    /** The machine it was taken of. */
    public MachineDescription machine() {
        return machine;
    }

    /** The guest's memory. */
    public MemoryImage memory() {
        return memory;
    }

    /** Each vCPU's KVM state, by index. */
    public List<VcpuState> vcpus() {
        return vcpus;
    }

    /** The VM's KVM state (interrupt controllers, PIT, kvmclock). */
    public VmState vm() {
        return vm;
    }

    /** The devices' state. */
    public PcDevices.State devices() {
        return devices;
    }

    /** The state of the test devices the machine was given ({@code -device pc-testdev}, {@code pci-testdev}). */
    public OptionalDevices optional() {
        return optional;
    }

    /**
     * Writes the snapshot to {@code file} (through a temporary file renamed into place, so a
     * reader never sees half a snapshot); returns the bytes written.
     *
     * @throws JkvmException when the file cannot be written
     */
    public long save(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            CRC32C crc = new CRC32C();
            try (OutputStream raw = Files.newOutputStream(tmp);
                 CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 16), crc);
                 DataOutputStream out = new DataOutputStream(checked)) {
                out.write(MAGIC);
                out.writeInt(VERSION);
                section(out, machine);
                out.writeInt(vcpus.size());
                for (VcpuState v : vcpus) {
                    section(out, v);
                }
                section(out, vm);
                section(out, devices);
                section(out, optional);
                writeMemory(out);
                out.flush();
                out.writeInt((int) crc.getValue());
                out.write(END);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return Files.size(file);
        } catch (IOException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the first error is the one to report
                }
            }
            throw new JkvmException(file + ": cannot write the snapshot: " + e.getMessage(), e);
        }
    }

    private static void section(DataOutputStream out, Record r) throws IOException {
        byte[] b = StateCodec.encode(r);
        out.writeInt(b.length);
        out.write(b);
    }

    private void writeMemory(DataOutputStream out) throws IOException {
        out.writeInt(memory.regions().size());
        byte[] page = new byte[(int) PAGE];
        for (MemoryImage.RegionImage r : memory.regions()) {
            out.writeLong(r.base());
            out.writeLong(r.size());
            out.writeInt(r.stored());
            for (int p = 0; p < r.slots().length; p++) {
                if (r.slots()[p] >= 0) {
                    out.writeInt(p);
                }
            }
            for (int p = 0; p < r.slots().length; p++) {
                if (r.slots()[p] >= 0) {
                    MemorySegment.copy(r.pages(), ValueLayout.JAVA_BYTE, r.slots()[p] * PAGE, page, 0, page.length);
                    out.write(page);
                }
            }
        }
    }

    /**
     * Reads a snapshot {@link #save} wrote, checking all of it (magic, version, every length, the
     * checksum) before returning.
     *
     * @throws JkvmException with one line saying what is wrong with the file
     */
    public static Snapshot load(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new JkvmException(file + ": no such file");
        } catch (IOException e) {
            throw new JkvmException(file + ": cannot read: " + e.getMessage(), e);
        }
        CRC32C crc = new CRC32C();
        try (InputStream raw = Files.newInputStream(file);
             CheckedInputStream checked = new CheckedInputStream(new BufferedInputStream(raw, 1 << 16), crc);
             DataInputStream in = new DataInputStream(checked)) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new JkvmException(file + ": not a jkvm snapshot");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new JkvmException(file + ": snapshot format version " + version + "; this jkvm reads version " + VERSION);
            }
            MachineDescription machine = readSection(in, MachineDescription.class, size);
            int n = in.readInt();
            if (n < 1 || n > MAX_VCPUS) {
                throw corrupt(file, n + " vCPUs");
            }
            List<VcpuState> vcpus = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                vcpus.add(readSection(in, VcpuState.class, size));
            }
            VmState vm = readSection(in, VmState.class, size);
            PcDevices.State devices = readSection(in, PcDevices.State.class, size);
            OptionalDevices optional = readSection(in, OptionalDevices.class, size);
            MemoryImage memory = readMemory(in, file, size);
            int expected = (int) crc.getValue();
            int stored = in.readInt();
            if (stored != expected) {
                throw new JkvmException(file + ": checksum mismatch: the file is corrupt");
            }
            byte[] end = new byte[END.length];
            in.readFully(end);
            if (!Arrays.equals(end, END) || in.read() != -1) {
                throw corrupt(file, "no end marker where the snapshot ends");
            }
            if (machine.topology().cpus() != n) {
                throw corrupt(file, n + " vCPU states for " + machine.topology().cpus() + " vCPUs");
            }
            return new Snapshot(machine, memory, vcpus, vm, devices, optional);
        } catch (EOFException e) {
            throw new JkvmException(file + ": truncated snapshot (" + size + " bytes)");
        } catch (IllegalArgumentException e) {
            throw corrupt(file, e.getMessage());
        } catch (IOException e) {
            throw new JkvmException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static JkvmException corrupt(Path file, String what) {
        return new JkvmException(file + ": corrupt snapshot: " + what);
    }

    private static <R extends Record> R readSection(DataInputStream in, Class<R> type, long fileSize) throws IOException {
        int len = in.readInt();
        if (len > fileSize && len <= MAX_SECTION) {
            throw new EOFException(); // a section longer than the whole file: cut short
        }
        if (len < 0 || len > MAX_SECTION) {
            throw new IllegalArgumentException(type.getSimpleName() + " section of " + len + " bytes");
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return StateCodec.decode(type, b);
    }

    private static MemoryImage readMemory(DataInputStream in, Path file, long fileSize) throws IOException {
        int regions = in.readInt();
        if (regions < 0 || regions > 64) {
            throw corrupt(file, regions + " memory regions");
        }
        List<MemoryImage.RegionImage> out = new ArrayList<>();
        byte[] page = new byte[(int) PAGE];
        for (int i = 0; i < regions; i++) {
            long base = in.readLong();
            long size = in.readLong();
            int stored = in.readInt();
            if (stored > 0 && stored * (PAGE + 4) > fileSize) {
                throw new EOFException(); // the pages it announces cannot be in a file this short
            }
            if (base < 0 || size <= 0 || size % PAGE != 0 || size / PAGE > Integer.MAX_VALUE
                    || stored < 0 || stored > size / PAGE) {
                throw corrupt(file, String.format("memory region at 0x%x of 0x%x bytes with %d pages", base, size, stored));
            }
            int[] slots = new int[(int) (size / PAGE)];
            Arrays.fill(slots, -1);
            int last = -1;
            for (int k = 0; k < stored; k++) {
                int p = in.readInt();
                if (p <= last || p >= slots.length) {
                    throw corrupt(file, "page index " + p + " out of order or range");
                }
                slots[p] = k;
                last = p;
            }
            MemoryImage.RegionImage r = MemoryImage.RegionImage.allocate(base, size, slots, stored);
            for (int k = 0; k < stored; k++) {
                in.readFully(page);
                MemorySegment.copy(page, 0, r.pages(), ValueLayout.JAVA_BYTE, k * PAGE, page.length);
            }
            out.add(r);
        }
        return new MemoryImage(out);
    }
}
