package dev.jkvm.vmm.boot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Kernel images built byte by byte for the loader tests: ELF32/ELF64 files, Multiboot headers, bzImages. */
final class TestImages {

    /** One loadable segment of a test ELF file. */
    record Seg(long paddr, long vaddr, byte[] data, long memSize) {
        Seg(long paddr, byte[] data) {
            this(paddr, paddr, data, data.length);
        }
    }

    private TestImages() {
    }

    static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A 12-byte Multiboot header with {@code flags}, its checksum right unless {@code badChecksum}. */
    static byte[] multibootHeader(int flags, boolean badChecksum) {
        return le(12).putInt(MultibootHeader.MAGIC).putInt(flags)
                .putInt(-(MultibootHeader.MAGIC + flags) + (badChecksum ? 1 : 0)).array();
    }

    /** A Multiboot header with the a.out-kludge address fields (flag 16 set). */
    static byte[] multibootKludgeHeader(int flags, long headerAddr, long loadAddr, long loadEnd, long bssEnd, long entry) {
        int f = flags | MultibootHeader.ADDRESSES;
        return le(32).putInt(MultibootHeader.MAGIC).putInt(f).putInt(-(MultibootHeader.MAGIC + f))
                .putInt((int) headerAddr).putInt((int) loadAddr).putInt((int) loadEnd).putInt((int) bssEnd)
                .putInt((int) entry).array();
    }

    /**
     * An ELF file of {@code bits} (32: EM_386, 64: EM_X86_64) with {@code segments} (each at a
     * page-aligned file offset from 0x1000) and {@code notes} (a PT_NOTE segment, if not null).
     */
    static byte[] elf(int bits, long entry, List<Seg> segments, byte[] notes) {
        boolean is64 = bits == 64;
        int ehsize = is64 ? 64 : 52;
        int phentsize = is64 ? 56 : 32;
        int phnum = segments.size() + (notes != null ? 1 : 0);
        long offset = 0x1000;
        long[] offsets = new long[segments.size()];
        for (int i = 0; i < segments.size(); i++) {
            offsets[i] = offset;
            offset += (segments.get(i).data().length + 0xfff) & ~0xfffL;
        }
        long notesOffset = offset;
        int size = (int) (notesOffset + (notes != null ? notes.length : 0));
        ByteBuffer b = le(size);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) (is64 ? Elf.EM_X86_64 : Elf.EM_386)).putInt(20, 1);
        if (is64) {
            b.putLong(24, entry).putLong(32, ehsize).putShort(52, (short) ehsize)
                    .putShort(54, (short) phentsize).putShort(56, (short) phnum);
        } else {
            b.putInt(24, (int) entry).putInt(28, ehsize).putShort(40, (short) ehsize)
                    .putShort(42, (short) phentsize).putShort(44, (short) phnum);
        }
        for (int i = 0; i < phnum; i++) {
            boolean note = i == segments.size();
            Seg s = note ? null : segments.get(i);
            int type = note ? Elf.PT_NOTE : Elf.PT_LOAD;
            long off = note ? notesOffset : offsets[i];
            long vaddr = note ? 0 : s.vaddr();
            long paddr = note ? 0 : s.paddr();
            long filesz = note ? notes.length : s.data().length;
            long memsz = note ? notes.length : s.memSize();
            int at = ehsize + i * phentsize;
            if (is64) {
                b.putInt(at, type).putInt(at + 4, 5).putLong(at + 8, off).putLong(at + 16, vaddr)
                        .putLong(at + 24, paddr).putLong(at + 32, filesz).putLong(at + 40, memsz).putLong(at + 48, 0x1000);
            } else {
                b.putInt(at, type).putInt(at + 4, (int) off).putInt(at + 8, (int) vaddr).putInt(at + 12, (int) paddr)
                        .putInt(at + 16, (int) filesz).putInt(at + 20, (int) memsz).putInt(at + 24, 5).putInt(at + 28, 0x1000);
            }
            if (!note) {
                b.put((int) off, s.data());
            }
        }
        if (notes != null) {
            b.put((int) notesOffset, notes);
        }
        return b.array();
    }

    /** One ELF note: owner {@code name}, {@code type}, {@code desc}, padded as the format wants. */
    static byte[] note(String name, int type, byte[] desc) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        int nameLen = (n.length + 3) & ~3;
        int descLen = (desc.length + 3) & ~3;
        ByteBuffer b = le(12 + nameLen + descLen);
        b.putInt(n.length).putInt(desc.length).putInt(type).put(n);
        b.position(12 + nameLen);
        b.put(desc);
        return b.array();
    }

    /** The PVH entry note: "Xen", type 18, a 4-byte physical entry. */
    static byte[] pvhNote(long entry) {
        return note("Xen", PvhLoader.XEN_ELFNOTE_PHYS32_ENTRY, le(4).putInt((int) entry).array());
    }

    /** Concatenation. */
    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /**
     * A bzImage: one setup sector after the boot sector, then {@code payload} as the protected-mode
     * code, with a protocol 2.15 header that asks for {@code initSize} bytes from 16 MiB.
     */
    static byte[] bzImage(byte[] payload, int version, int xloadflags, long initSize) {
        int setup = 2 * 512;
        ByteBuffer b = le(setup + payload.length);
        b.put(0x1f1, (byte) 1);
        b.putInt(0x1f4, (payload.length + 15) / 16);
        b.putShort(0x1fe, (short) 0xaa55);
        b.put(0x200, (byte) 0xeb).put(0x201, (byte) 0x66);
        b.putInt(0x202, LinuxSetupHeader.MAGIC);
        b.putShort(0x206, (short) version);
        b.put(0x211, (byte) LinuxSetupHeader.LOADED_HIGH);
        b.putInt(0x214, 0x100000);
        b.putInt(0x22c, 0x7fffffff);
        b.putInt(0x230, 0x200000);
        b.put(0x234, (byte) 1);
        b.putShort(0x236, (short) xloadflags);
        b.putInt(0x238, 2047);
        b.putLong(0x258, 0x1000000);
        b.putInt(0x260, (int) initSize);
        b.put(setup, payload);
        return b.array();
    }

    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }
}
