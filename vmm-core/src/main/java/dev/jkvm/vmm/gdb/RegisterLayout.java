package dev.jkvm.vmm.gdb;

import java.util.ArrayList;
import java.util.List;

/**
 * The x86-64 register set jkvm shows gdb: the order, sizes and types of the target description
 * and, from the same table, the {@code g} packet layout (registers back to back in table order,
 * each little-endian). Keeping both in one table is what keeps them consistent.
 *
 * <pre>{@code
 * byte[] g = RegisterLayout.encode(now);                // 600 bytes
 * CpuRegisters edited = RegisterLayout.decode(g, now);  // the inverse
 * RegisterLayout.find("rip").offset()                   // 128
 * }</pre>
 */
final class RegisterLayout {

    static final String CORE = "org.gnu.gdb.i386.core";
    static final String SSE = "org.gnu.gdb.i386.sse";
    static final String SEGMENTS = "org.gnu.gdb.i386.segments";
    static final String SYSTEM = "org.jkvm.gdb.i386.sys";

    /** Reads one register's bytes (little-endian) out of the CPU. */
    interface Getter {
        void get(EditableCpu cpu, byte[] out, int at);
    }

    /** Stores one register's bytes (little-endian) into the CPU. */
    interface Setter {
        void set(EditableCpu cpu, byte[] in, int at);
    }

    /** One register: gdb number (its index), name, size, tdesc type and group, feature, g offset. */
    record Register(int number, String name, int bits, String type, String group, String feature, int offset,
                    Getter getter, Setter setter) {
        int bytes() {
            return bits / 8;
        }
    }

    private static final List<Register> REGISTERS = build();

    /** The size of a {@code g} packet's data. */
    static final int G_BYTES = REGISTERS.getLast().offset() + REGISTERS.getLast().bytes();

    private RegisterLayout() {
    }

    static List<Register> registers() {
        return REGISTERS;
    }

    /** The register named {@code name}; throws if there is none. */
    static Register find(String name) {
        return REGISTERS.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no register " + name));
    }

    static byte[] encode(CpuRegisters c) {
        EditableCpu cpu = new EditableCpu(c);
        byte[] out = new byte[G_BYTES];
        for (Register r : REGISTERS) {
            r.getter().get(cpu, out, r.offset());
        }
        return out;
    }

    /** Applies a {@code g}-layout buffer; a shorter buffer leaves the registers it lacks as they were. */
    static CpuRegisters decode(byte[] g, CpuRegisters before) {
        EditableCpu cpu = new EditableCpu(before);
        for (Register r : REGISTERS) {
            if (r.offset() + r.bytes() <= g.length) {
                r.setter().set(cpu, g, r.offset());
            }
        }
        return cpu.toRegisters();
    }

    /** The bytes of one register. */
    static byte[] read(CpuRegisters c, Register r) {
        byte[] out = new byte[r.bytes()];
        r.getter().get(new EditableCpu(c), out, 0);
        return out;
    }

    /** The registers with one of them replaced by {@code value} (exactly {@code r.bytes()} long). */
    static CpuRegisters write(CpuRegisters c, Register r, byte[] value) {
        EditableCpu cpu = new EditableCpu(c);
        r.setter().set(cpu, value, 0);
        return cpu.toRegisters();
    }

    private static List<Register> build() {
        Table t = new Table();
        String[] gprNames = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
        for (int i = 0; i < 16; i++) {
            int n = i;
            String type = i == 6 || i == 7 ? "data_ptr" : "int64";
            t.add(gprNames[i], 64, type, null, CORE, (c, o, a) -> putLong(o, a, c.gpr[n], 8),
                    (c, in, a) -> c.gpr[n] = getLong(in, a, 8));
        }
        t.add("rip", 64, "code_ptr", null, CORE, (c, o, a) -> putLong(o, a, c.rip, 8), (c, in, a) -> c.rip = getLong(in, a, 8));
        t.add("eflags", 32, "i386_eflags", null, CORE, (c, o, a) -> putLong(o, a, c.rflags, 4),
                (c, in, a) -> c.rflags = c.rflags & 0xffff_ffff_0000_0000L | getLong(in, a, 4));
        String[] segmentNames = {"cs", "ss", "ds", "es", "fs", "gs"};
        for (int i = 0; i < 6; i++) {
            int n = i;
            t.add(segmentNames[i], 32, "int32", null, CORE, (c, o, a) -> putLong(o, a, c.segments[n].selector(), 4),
                    (c, in, a) -> c.setSelector(n, (int) getLong(in, a, 4) & 0xffff));
        }
        for (int i = 0; i < 8; i++) {
            int at = i * FpuState.ST_BYTES;
            t.add("st" + i, 80, "i387_ext", null, CORE,
                    (c, o, a) -> System.arraycopy(c.st, at, o, a, FpuState.ST_BYTES),
                    (c, in, a) -> System.arraycopy(in, a, c.st, at, FpuState.ST_BYTES));
        }
        t.add("fctrl", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.fcw, 4), (c, in, a) -> c.fcw = (int) getLong(in, a, 2));
        t.add("fstat", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.fsw, 4), (c, in, a) -> c.fsw = (int) getLong(in, a, 2));
        t.add("ftag", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.ftag, 4), (c, in, a) -> c.ftag = (int) getLong(in, a, 2));
        // In the 64-bit FXSAVE image the "segment" halves are bits 63:32 of the pointers (as gdb reads them).
        t.add("fiseg", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.lastIp >>> 32, 4),
                (c, in, a) -> c.lastIp = c.lastIp & 0xffff_ffffL | getLong(in, a, 4) << 32);
        t.add("fioff", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.lastIp, 4),
                (c, in, a) -> c.lastIp = c.lastIp & 0xffff_ffff_0000_0000L | getLong(in, a, 4));
        t.add("foseg", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.lastDp >>> 32, 4),
                (c, in, a) -> c.lastDp = c.lastDp & 0xffff_ffffL | getLong(in, a, 4) << 32);
        t.add("fooff", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.lastDp, 4),
                (c, in, a) -> c.lastDp = c.lastDp & 0xffff_ffff_0000_0000L | getLong(in, a, 4));
        t.add("fop", 32, "int", "float", CORE, (c, o, a) -> putLong(o, a, c.fop, 4), (c, in, a) -> c.fop = (int) getLong(in, a, 2) & 0x7ff);
        for (int i = 0; i < 16; i++) {
            int at = i * FpuState.XMM_BYTES;
            t.add("xmm" + i, 128, "vec128", null, SSE,
                    (c, o, a) -> System.arraycopy(c.xmm, at, o, a, FpuState.XMM_BYTES),
                    (c, in, a) -> System.arraycopy(in, a, c.xmm, at, FpuState.XMM_BYTES));
        }
        t.add("mxcsr", 32, "i386_mxcsr", "vector", SSE, (c, o, a) -> putLong(o, a, c.mxcsr, 4),
                (c, in, a) -> c.mxcsr = (int) getLong(in, a, 4));
        t.add("fs_base", 64, "int", null, SEGMENTS, (c, o, a) -> putLong(o, a, c.segments[4].base(), 8),
                (c, in, a) -> c.setBase(4, getLong(in, a, 8)));
        t.add("gs_base", 64, "int", null, SEGMENTS, (c, o, a) -> putLong(o, a, c.segments[5].base(), 8),
                (c, in, a) -> c.setBase(5, getLong(in, a, 8)));
        t.add("cr0", 64, "int64", null, SYSTEM, (c, o, a) -> putLong(o, a, c.cr0, 8), (c, in, a) -> c.cr0 = getLong(in, a, 8));
        t.add("cr2", 64, "int64", null, SYSTEM, (c, o, a) -> putLong(o, a, c.cr2, 8), (c, in, a) -> c.cr2 = getLong(in, a, 8));
        t.add("cr3", 64, "int64", null, SYSTEM, (c, o, a) -> putLong(o, a, c.cr3, 8), (c, in, a) -> c.cr3 = getLong(in, a, 8));
        t.add("cr4", 64, "int64", null, SYSTEM, (c, o, a) -> putLong(o, a, c.cr4, 8), (c, in, a) -> c.cr4 = getLong(in, a, 8));
        t.add("cr8", 64, "int64", null, SYSTEM, (c, o, a) -> putLong(o, a, c.cr8, 8), (c, in, a) -> c.cr8 = getLong(in, a, 8));
        t.add("efer", 64, "int64", null, SYSTEM, (c, o, a) -> putLong(o, a, c.efer, 8), (c, in, a) -> c.efer = getLong(in, a, 8));
        return List.copyOf(t.registers);
    }

    /** Accumulates registers and their offsets. */
    private static final class Table {
        final List<Register> registers = new ArrayList<>();
        int offset;

        void add(String name, int bits, String type, String group, String feature, Getter get, Setter set) {
            registers.add(new Register(registers.size(), name, bits, type, group, feature, offset, get, set));
            offset += bits / 8;
        }
    }

    static void putLong(byte[] out, int at, long value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out[at + i] = (byte) (value >>> (8 * i));
        }
    }

    static long getLong(byte[] in, int at, int bytes) {
        long value = 0;
        for (int i = 0; i < bytes; i++) {
            value |= (in[at + i] & 0xffL) << (8 * i);
        }
        return value;
    }
}
