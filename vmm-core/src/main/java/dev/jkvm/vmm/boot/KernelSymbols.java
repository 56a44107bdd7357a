package dev.jkvm.vmm.boot;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The symbol table ({@code .symtab}) of an ELF kernel and the way from a symbol's (virtual) address
 * to where the loader put it in guest-physical memory, so a test can read a kernel variable by name
 * the way {@code gdb} does with the kernel's symbols. Multiboot and PVH kernels are loaded by their
 * segments' physical addresses while their symbols are link-time virtual addresses; the segments
 * give the translation, so it holds before the guest has set up any page table.
 *
 * <p>A stripped kernel (Debian's {@code vmlinux} has no {@code .symtab}) or a file that is not ELF
 * has an empty table. Example:
 *
 * <pre>{@code
 * KernelSymbols syms = KernelSymbols.read(Path.of("guest-images/target/images/meminfo.elf"));
 * long gpa = syms.physicalAddress("watched_var").orElseThrow();
 * }</pre>
 */
public final class KernelSymbols {

    /** What a symbol names ({@code STT_*}). */
    public enum Kind {
        NOTYPE, OBJECT, FUNC, OTHER
    }

    /**
     * One symbol.
     *
     * @param name its name
     * @param address its value, {@code st_value}: the link-time (virtual) address
     * @param size {@code st_size} in bytes, 0 when the assembler did not say
     * @param kind what it names
     * @param global whether it is {@code STB_GLOBAL} or {@code STB_WEAK} rather than local to a file
     */
    public record Symbol(String name, long address, long size, Kind kind, boolean global) {
    }

    static final int SHT_SYMTAB = 2;
    static final int SHN_UNDEF = 0;
    static final int SHN_ABS = 0xfff1;
    /** More sections or symbols than a kernel has: a bound on what a corrupt header makes us read. */
    static final int MAX_SECTIONS = 1 << 16;
    static final long MAX_TABLE_BYTES = 256L << 20;

    private static final KernelSymbols NONE = new KernelSymbols(Path.of(""), Map.of(), List.of());

    private final Path file;
    private final Map<String, Symbol> byName;
    private final List<Elf.Segment> segments;

    private KernelSymbols(Path file, Map<String, Symbol> byName, List<Elf.Segment> segments) {
        this.file = file;
        this.byName = byName;
        this.segments = segments;
    }

    /** An empty table. */
    public static KernelSymbols none() {
        return NONE;
    }

    /**
     * Reads the symbols of {@code kernel}: an empty table when it is not an ELF file or has no symbol
     * table.
     *
     * @throws dev.jkvm.vmm.JkvmException when the file cannot be read or its headers are corrupt
     */
    public static KernelSymbols read(Path kernel) {
        try (ImageFile file = ImageFile.open("-kernel", kernel)) {
            if (!Elf.isElf(file.head(4))) {
                return new KernelSymbols(kernel, Map.of(), List.of());
            }
            Elf elf = Elf.parse(file);
            return new KernelSymbols(kernel, Collections.unmodifiableMap(symbols(file)), elf.segments());
        }
    }

    /** The kernel file these symbols came from. */
    public Path file() {
        return file;
    }

    /** How many named symbols there are. */
    public int size() {
        return byName.size();
    }

    /**
     * The symbol called {@code name}. When several files define a local symbol of that name, the
     * global one wins, else the first in the table.
     */
    public Optional<Symbol> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * Where {@code address} (a symbol's link-time address) was loaded in guest-physical memory:
     * through the loadable segment that holds it, or empty when none does.
     */
    public OptionalLong physicalAddress(long address) {
        for (Elf.Segment s : segments) {
            if (address - s.vaddr() >= 0 && address - s.vaddr() < s.memSize()) {
                return OptionalLong.of(s.paddr() + (address - s.vaddr()));
            }
        }
        return OptionalLong.empty();
    }

    /** Where the symbol called {@code name} was loaded, if it exists and lies in a loaded segment. */
    public OptionalLong physicalAddress(String name) {
        return find(name).map(s -> physicalAddress(s.address())).orElse(OptionalLong.empty());
    }

    /** Reads {@code .symtab} and its string table, through the section headers. */
    private static Map<String, Symbol> symbols(ImageFile file) {
        boolean is64 = file.head(5)[4] == 2;
        ByteBuffer h = Elf.le(file.read(0, is64 ? 64 : 52, "the ELF header"));
        long shoff = is64 ? h.getLong(40) : Elf.u32(h, 32);
        int shentsize = Short.toUnsignedInt(h.getShort(is64 ? 58 : 46));
        int shnum = Short.toUnsignedInt(h.getShort(is64 ? 60 : 48));
        if (shoff == 0 || shnum == 0) {
            return Map.of(); // no section headers: nothing to say about symbols
        }
        int expected = is64 ? 64 : 40;
        if (shentsize != expected) {
            throw file.refuse("ELF section header size " + shentsize + ", expected " + expected);
        }
        ByteBuffer sh = Elf.le(file.read(shoff, shnum * shentsize, "the ELF section headers"));
        for (int i = 0; i < shnum; i++) {
            Section s = Section.at(sh, i * shentsize, is64);
            if (s.type() == SHT_SYMTAB) {
                if (s.link() >= shnum) {
                    throw file.refuse("the ELF symbol table's string table is section " + s.link() + " of " + shnum);
                }
                Section strings = Section.at(sh, (int) s.link() * shentsize, is64);
                return table(file, s, strings, is64);
            }
        }
        return Map.of();
    }

    private static Map<String, Symbol> table(ImageFile file, Section symtab, Section strtab, boolean is64) {
        int entSize = is64 ? 24 : 16;
        if (symtab.size() > MAX_TABLE_BYTES || strtab.size() > MAX_TABLE_BYTES || symtab.size() % entSize != 0) {
            throw file.refuse("implausible ELF symbol table: " + symtab.size() + " bytes of symbols, "
                    + strtab.size() + " of names");
        }
        ByteBuffer sym = Elf.le(file.read(symtab.offset(), (int) symtab.size(), "the ELF symbol table"));
        byte[] names = file.read(strtab.offset(), (int) strtab.size(), "the ELF symbol names");
        Map<String, Symbol> out = new HashMap<>();
        for (int at = entSize; at + entSize <= sym.limit(); at += entSize) { // entry 0 is the null symbol
            long nameAt = Elf.u32(sym, at);
            int info = Byte.toUnsignedInt(sym.get(at + (is64 ? 4 : 12)));
            int shndx = Short.toUnsignedInt(sym.getShort(at + (is64 ? 6 : 14)));
            long value = is64 ? sym.getLong(at + 8) : Elf.u32(sym, at + 4);
            long size = is64 ? sym.getLong(at + 16) : Elf.u32(sym, at + 8);
            int type = info & 0xf;
            int bind = info >>> 4;
            // undefined, section (3) and file (4) symbols name no variable or function of the kernel
            if (shndx == SHN_UNDEF || type == 3 || type == 4 || nameAt == 0 || nameAt >= names.length) {
                continue;
            }
            String name = cString(names, (int) nameAt);
            Kind kind = switch (type) {
                case 0 -> Kind.NOTYPE;
                case 1 -> Kind.OBJECT;
                case 2 -> Kind.FUNC;
                default -> Kind.OTHER;
            };
            Symbol s = new Symbol(name, value, size, kind, bind == 1 || bind == 2);
            Symbol before = out.get(name);
            if (before == null || (s.global() && !before.global())) {
                out.put(name, s);
            }
        }
        return out;
    }

    private static String cString(byte[] bytes, int from) {
        int end = from;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, from, end - from, StandardCharsets.UTF_8);
    }

    /** The fields of a section header this class uses. */
    private record Section(int type, long offset, long size, long link) {
        static Section at(ByteBuffer sh, int at, boolean is64) {
            int type = sh.getInt(at + 4);
            long offset = is64 ? sh.getLong(at + 24) : Elf.u32(sh, at + 16);
            long size = is64 ? sh.getLong(at + 32) : Elf.u32(sh, at + 20);
            long link = Elf.u32(sh, at + (is64 ? 40 : 24));
            return new Section(type, offset, size, link);
        }
    }

    @Override
    public String toString() {
        return "symbols of " + file + " (" + byName.size() + ")";
    }
}
