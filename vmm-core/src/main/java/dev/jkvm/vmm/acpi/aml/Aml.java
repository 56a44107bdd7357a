package dev.jkvm.vmm.acpi.aml;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * One encoded AML term (or a sequence of them), built bottom-up: a container encodes its
 * children first, so it knows the PkgLength to put in front. Immutable.
 *
 * <pre>{@code
 * Aml dsdtBody = Aml.of(
 *         Aml.name("\\_S5", Aml.packageOf(Aml.integer(0), Aml.integer(0), Aml.integer(0), Aml.integer(0))),
 *         Aml.scope("\\_SB", Aml.device("COM1",
 *                 Aml.name("_HID", Aml.eisaId("PNP0501")),
 *                 Aml.name("_CRS", new ResourceTemplate().io(0x3f8, 0x3f8, 1, 8).irqNoFlags(4).toAml()))));
 * }</pre>
 */
public final class Aml {

    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE_OP = 0x10;
    static final int BUFFER_OP = 0x11;
    static final int PACKAGE_OP = 0x12;
    static final int METHOD_OP = 0x14;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int DEVICE_OP = 0x82; // after ExtOpPrefix
    static final int RETURN_OP = 0xA4;

    private final byte[] bytes;

    private Aml(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The encoding. */
    public byte[] bytes() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    /** Raw, already-encoded AML. */
    public static Aml raw(byte... bytes) {
        return new Aml(bytes.clone());
    }

    /** A sequence of terms (a TermList), encoded one after another. */
    public static Aml of(Aml... terms) {
        return of(Arrays.asList(terms));
    }

    public static Aml of(List<Aml> terms) {
        return new Aml(concat(terms));
    }

    /**
     * An integer in its shortest form: ZeroOp, OneOp, or Byte/Word/DWord/QWord prefix and the
     * little-endian value ({@code value} read as unsigned).
     */
    public static Aml integer(long value) {
        if (value == 0) {
            return new Aml(new byte[] {ZERO_OP});
        }
        if (value == 1) {
            return new Aml(new byte[] {ONE_OP});
        }
        if (Long.compareUnsigned(value, 0xFF) <= 0) {
            return prefixed(BYTE_PREFIX, value, 1);
        }
        if (Long.compareUnsigned(value, 0xFFFF) <= 0) {
            return prefixed(WORD_PREFIX, value, 2);
        }
        if (Long.compareUnsigned(value, 0xFFFF_FFFFL) <= 0) {
            return prefixed(DWORD_PREFIX, value, 4);
        }
        return prefixed(QWORD_PREFIX, value, 8);
    }

    private static Aml prefixed(int prefix, long value, int size) {
        byte[] b = new byte[1 + size];
        b[0] = (byte) prefix;
        for (int i = 0; i < size; i++) {
            b[1 + i] = (byte) (value >>> (8 * i));
        }
        return new Aml(b);
    }

    /** ASL's {@code EISAID("PNP0A03")}: always a DWORD, as iasl emits it and the disassembler expects. */
    public static Aml eisaId(String id) {
        return prefixed(DWORD_PREFIX, EisaId.encode(id) & 0xFFFF_FFFFL, 4);
    }

    /** A string constant: StringPrefix, ASCII characters 0x01-0x7F, NUL. */
    public static Aml string(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x01 || c > 0x7F) {
                throw new IllegalArgumentException("AML strings hold ASCII 0x01-0x7F only: \"" + s + "\"");
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(STRING_PREFIX);
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
        out.write(0);
        return new Aml(out.toByteArray());
    }

    /** A reference to a named object (a NameString used as a term). */
    public static Aml nameRef(String path) {
        return new Aml(NameString.encode(path));
    }

    /** {@code Buffer(n) {bytes}}: BufferOp PkgLength BufferSize ByteList. */
    public static Aml buffer(byte[] data) {
        byte[] body = concat(List.of(integer(data.length), new Aml(data.clone())));
        return packaged(new byte[] {BUFFER_OP}, body);
    }

    /** {@code Package(n) {elements}}: PackageOp PkgLength NumElements elements (at most 255). */
    public static Aml packageOf(Aml... elements) {
        if (elements.length > 255) {
            throw new IllegalArgumentException("a Package holds at most 255 elements, not " + elements.length);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(elements.length);
        body.writeBytes(concat(Arrays.asList(elements)));
        return packaged(new byte[] {PACKAGE_OP}, body.toByteArray());
    }

    /** {@code Name(name, value)}: NameOp NameString DataRefObject. */
    public static Aml name(String name, Aml value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(NAME_OP);
        out.writeBytes(NameString.encode(name));
        out.writeBytes(value.bytes);
        return new Aml(out.toByteArray());
    }

    /** {@code Scope(name) {terms}}: ScopeOp PkgLength NameString TermList. */
    public static Aml scope(String name, Aml... terms) {
        return scope(name, Arrays.asList(terms));
    }

    public static Aml scope(String name, List<Aml> terms) {
        return packaged(new byte[] {SCOPE_OP}, concat(NameString.encode(name), concat(terms)));
    }

    /** {@code Device(name) {terms}}: ExtOpPrefix DeviceOp PkgLength NameString TermList. */
    public static Aml device(String name, Aml... terms) {
        return device(name, Arrays.asList(terms));
    }

    public static Aml device(String name, List<Aml> terms) {
        return packaged(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, concat(NameString.encode(name), concat(terms)));
    }

    /**
     * {@code Method(name, argCount, Serialized|NotSerialized, syncLevel) {terms}}: MethodOp
     * PkgLength NameString MethodFlags TermList; MethodFlags holds the argument count in bits 0-2,
     * SerializeFlag in bit 3 and SyncLevel in bits 4-7.
     */
    public static Aml method(String name, int argCount, boolean serialized, int syncLevel, Aml... terms) {
        if (argCount < 0 || argCount > 7 || syncLevel < 0 || syncLevel > 15) {
            throw new IllegalArgumentException("method " + name + ": " + argCount + " arguments, sync level " + syncLevel);
        }
        byte[] head = concat(NameString.encode(name), new byte[] {(byte) (argCount | (serialized ? 8 : 0) | syncLevel << 4)});
        return packaged(new byte[] {METHOD_OP}, concat(head, concat(Arrays.asList(terms))));
    }

    /** A method without arguments, NotSerialized: the common case. */
    public static Aml method(String name, Aml... terms) {
        return method(name, 0, false, 0, terms);
    }

    /** {@code Return(value)}: ReturnOp ArgObject. */
    public static Aml returnOf(Aml value) {
        return new Aml(concat(new byte[] {(byte) RETURN_OP}, value.bytes));
    }

    private static Aml packaged(byte[] opcode, byte[] body) {
        return new Aml(concat(concat(opcode, PkgLength.forContent(body.length)), body));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static byte[] concat(List<Aml> terms) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Aml t : terms) {
            out.writeBytes(t.bytes);
        }
        return out.toByteArray();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Aml a && Arrays.equals(bytes, a.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Aml[");
        for (int i = 0; i < bytes.length; i++) {
            sb.append(i == 0 ? "" : " ").append(String.format("%02X", bytes[i] & 0xFF));
        }
        return sb.append(']').toString();
    }
}
