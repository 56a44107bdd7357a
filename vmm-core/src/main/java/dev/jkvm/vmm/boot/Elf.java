package dev.jkvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of an ELF executable a loader needs: class, machine, entry, the loadable segments and
 * the notes. Both classes (ELF32 and ELF64), little-endian only; every offset and size is checked
 * against the file so a truncated or corrupt image is refused before anything is loaded.
 *
 * @param bits 32 or 64
 * @param machine {@code e_machine} ({@link #EM_386}, {@link #EM_X86_64})
 * @param entry {@code e_entry}
 * @param segments the {@code PT_LOAD} segments with a non-zero memory size, in file order
 * @param notes the notes of every {@code PT_NOTE} segment
 */
record Elf(int bits, int machine, long entry, List<Segment> segments, List<Note> notes) {

    static final int EM_386 = 3;
    static final int EM_X86_64 = 62;
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    /** More program headers than any kernel has: a bound on what a corrupt header can make us read. */
    static final int MAX_PROGRAM_HEADERS = 256;
    static final int MAX_NOTES_BYTES = 1 << 20;

    /**
     * A loadable segment.
     *
     * @param offset where its bytes start in the file
     * @param vaddr its virtual address
     * @param paddr its physical address (where a loader with paging off puts it)
     * @param fileSize bytes taken from the file
     * @param memSize bytes in memory (the rest, past fileSize, is zero: .bss)
     */
    record Segment(long offset, long vaddr, long paddr, long fileSize, long memSize) {
    }

    /** An ELF note: owner name (without NUL), type and descriptor bytes. */
    record Note(String name, int type, byte[] desc) {
    }

    /** Whether {@code head} starts with the ELF magic. */
    static boolean isElf(byte[] head) {
        return head.length >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
    }

    /** Parses the headers of {@code file} (which starts with the ELF magic), refusing what it cannot read. */
    static Elf parse(ImageFile file) {
        byte[] ident = file.read(0, 16, "the ELF identification");
        int elfClass = ident[4];
        if (elfClass != 1 && elfClass != 2) {
            throw file.refuse("unsupported ELF class " + elfClass + " (neither ELF32 nor ELF64)");
        }
        if (ident[5] != 1) {
            throw file.refuse("a big-endian ELF file: x86 kernels are little-endian");
        }
        if (ident[6] != 1) {
            throw file.refuse("unsupported ELF version " + ident[6]);
        }
        boolean is64 = elfClass == 2;
        ByteBuffer h = le(file.read(0, is64 ? 64 : 52, "the ELF header"));
        int machine = Short.toUnsignedInt(h.getShort(18));
        long entry = is64 ? h.getLong(24) : u32(h, 24);
        long phoff = is64 ? h.getLong(32) : u32(h, 28);
        int phentsize = Short.toUnsignedInt(h.getShort(is64 ? 54 : 42));
        int phnum = Short.toUnsignedInt(h.getShort(is64 ? 56 : 44));
        int expected = is64 ? 56 : 32;
        if (phnum == 0) {
            throw file.refuse("the ELF file has no program headers: nothing to load");
        }
        if (phentsize != expected) {
            throw file.refuse("ELF program header size " + phentsize + ", expected " + expected);
        }
        if (phnum > MAX_PROGRAM_HEADERS) {
            throw file.refuse(phnum + " ELF program headers is more than a kernel has (" + MAX_PROGRAM_HEADERS + ")");
        }
        ByteBuffer ph = le(file.read(phoff, phnum * phentsize, "the ELF program headers"));
        List<Segment> segments = new ArrayList<>();
        List<Note> notes = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = i * phentsize;
            int type = ph.getInt(at);
            long offset = is64 ? ph.getLong(at + 8) : u32(ph, at + 4);
            long vaddr = is64 ? ph.getLong(at + 16) : u32(ph, at + 8);
            long paddr = is64 ? ph.getLong(at + 24) : u32(ph, at + 12);
            long filesz = is64 ? ph.getLong(at + 32) : u32(ph, at + 16);
            long memsz = is64 ? ph.getLong(at + 40) : u32(ph, at + 20);
            if (offset < 0 || filesz < 0 || offset > file.size() - filesz) {
                throw file.refuse(String.format("truncated: ELF segment %d (0x%x bytes at file offset 0x%x) is past the end of the file",
                        i, filesz, offset));
            }
            if (type == PT_LOAD && memsz != 0) {
                if (memsz < filesz || paddr < 0 || paddr + memsz < paddr) {
                    throw file.refuse(String.format("corrupt ELF segment %d: 0x%x bytes in memory at 0x%x, 0x%x in the file",
                            i, memsz, paddr, filesz));
                }
                segments.add(new Segment(offset, vaddr, paddr, filesz, memsz));
            } else if (type == PT_NOTE && filesz > 0) {
                if (filesz > MAX_NOTES_BYTES) {
                    throw file.refuse("ELF note segment " + i + " of " + filesz + " bytes is implausibly large");
                }
                notes.addAll(notes(file.read(offset, (int) filesz, "ELF notes")));
            }
        }
        if (segments.isEmpty()) {
            throw file.refuse("the ELF file has no loadable segment");
        }
        return new Elf(is64 ? 64 : 32, machine, entry, segments, notes);
    }

    /** The notes in one note segment: namesz, descsz, type, then name and desc, each padded to 4 bytes. */
    private static List<Note> notes(byte[] bytes) {
        ByteBuffer b = le(bytes);
        List<Note> out = new ArrayList<>();
        int at = 0;
        while (at + 12 <= bytes.length) {
            long namesz = u32(b, at);
            long descsz = u32(b, at + 4);
            int type = b.getInt(at + 8);
            long nameAt = at + 12L;
            long descAt = nameAt + align4(namesz);
            long next = descAt + align4(descsz);
            if (next > bytes.length) {
                break; // a torn last note: ignore it rather than guess
            }
            int nameLen = (int) namesz;
            while (nameLen > 0 && bytes[(int) nameAt + nameLen - 1] == 0) {
                nameLen--;
            }
            String name = new String(bytes, (int) nameAt, nameLen, StandardCharsets.US_ASCII);
            byte[] desc = new byte[(int) descsz];
            System.arraycopy(bytes, (int) descAt, desc, 0, desc.length);
            out.add(new Note(name, type, desc));
            at = (int) next;
        }
        return out;
    }

    /** The segment whose virtual range holds {@code vaddr}, if one does. */
    Segment segmentWithVaddr(long vaddr) {
        for (Segment s : segments) {
            if (vaddr - s.vaddr() >= 0 && vaddr - s.vaddr() < s.memSize()) {
                return s;
            }
        }
        return null;
    }

    /** The lowest physical address of any segment. */
    long lowestPaddr() {
        return segments.stream().mapToLong(Segment::paddr).min().orElseThrow();
    }

    /** The first physical address past every segment. */
    long endPaddr() {
        return segments.stream().mapToLong(s -> s.paddr() + s.memSize()).max().orElseThrow();
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }

    static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long u32(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }
}
