package dev.jkvm.devices.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a state record as bytes and reads it back: its components in declaration order, each as
 * {@link DataOutputStream} writes it. Components may be primitives, {@code String}, {@code byte[]},
 * {@code int[]}, {@code long[]}, {@code boolean[]}, records of the same kind, and {@code List}s of records. The bytes
 * carry no names, so a record whose components change needs a new snapshot format version.
 */
public final class StateCodec {

    /** The longest array or list a state may hold (a corrupt length must not exhaust the heap). */
    public static final int MAX_LENGTH = 1 << 24;

    private StateCodec() {
    }

    /** {@code state} as bytes. */
    public static byte[] encode(Record state) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(out, state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The record of {@code type} that {@link #encode} wrote into {@code bytes}.
     *
     * @throws IllegalArgumentException when the bytes are not such a record (short, long, a bad length)
     */
    public static <R extends Record> R decode(Class<R> type, byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            R r = read(in, type);
            if (in.available() != 0) {
                throw new IllegalArgumentException(type.getSimpleName() + ": " + in.available() + " bytes too many");
            }
            return r;
        } catch (IOException e) {
            throw new IllegalArgumentException(type.getSimpleName() + ": truncated state", e);
        }
    }

    /** Writes {@code state}'s components to {@code out}. */
    public static void write(DataOutputStream out, Record state) throws IOException {
        for (RecordComponent c : state.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(state);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            writeValue(out, c.getGenericType(), v);
        }
    }

    private static void writeValue(DataOutputStream out, Type type, Object v) throws IOException {
        if (type == int.class) {
            out.writeInt((Integer) v);
        } else if (type == long.class) {
            out.writeLong((Long) v);
        } else if (type == boolean.class) {
            out.writeBoolean((Boolean) v);
        } else if (type == byte.class) {
            out.writeByte((Byte) v);
        } else if (type == short.class) {
            out.writeShort((Short) v);
        } else if (type == String.class) {
            out.writeUTF((String) v);
        } else if (type == byte[].class) {
            byte[] a = (byte[]) v;
            out.writeInt(a.length);
            out.write(a);
        } else if (type == int[].class) {
            int[] a = (int[]) v;
            out.writeInt(a.length);
            for (int x : a) {
                out.writeInt(x);
            }
        } else if (type == boolean[].class) {
            boolean[] a = (boolean[]) v;
            out.writeInt(a.length);
            for (boolean x : a) {
                out.writeBoolean(x);
            }
        } else if (type == long[].class) {
            long[] a = (long[]) v;
            out.writeInt(a.length);
            for (long x : a) {
                out.writeLong(x);
            }
        } else if (type instanceof Class<?> k && k.isRecord()) {
            write(out, (Record) v);
        } else if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            List<?> list = (List<?>) v;
            out.writeInt(list.size());
            for (Object o : list) {
                writeValue(out, p.getActualTypeArguments()[0], o);
            }
        } else {
            throw new IllegalArgumentException("a state record cannot hold a " + type.getTypeName());
        }
    }

    /** Reads a record of {@code type} from {@code in}. */
    public static <R extends Record> R read(DataInputStream in, Class<R> type) throws IOException {
        RecordComponent[] components = type.getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            values[i] = readValue(in, components[i].getGenericType());
        }
        try {
            Constructor<R> c = type.getDeclaredConstructor(types);
            c.setAccessible(true);
            return c.newInstance(values);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException(type.getSimpleName() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object readValue(DataInputStream in, Type type) throws IOException {
        if (type == int.class) {
            return in.readInt();
        } else if (type == long.class) {
            return in.readLong();
        } else if (type == boolean.class) {
            return in.readBoolean();
        } else if (type == byte.class) {
            return in.readByte();
        } else if (type == short.class) {
            return in.readShort();
        } else if (type == String.class) {
            return in.readUTF();
        } else if (type == byte[].class) {
            byte[] a = new byte[length(in)];
            in.readFully(a);
            return a;
        } else if (type == int[].class) {
            int[] a = new int[length(in)];
            for (int i = 0; i < a.length; i++) {
                a[i] = in.readInt();
            }
            return a;
        } else if (type == boolean[].class) {
            boolean[] a = new boolean[length(in)];
            for (int i = 0; i < a.length; i++) {
                a[i] = in.readBoolean();
            }
            return a;
        } else if (type == long[].class) {
            long[] a = new long[length(in)];
            for (int i = 0; i < a.length; i++) {
                a[i] = in.readLong();
            }
            return a;
        } else if (type instanceof Class<?> k && k.isRecord()) {
            return read(in, k.asSubclass(Record.class));
        } else if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            int n = length(in);
            List<Object> list = new ArrayList<>(Math.min(n, 64));
            for (int i = 0; i < n; i++) {
                list.add(readValue(in, p.getActualTypeArguments()[0]));
            }
            return List.copyOf(list);
        }
        throw new IllegalArgumentException("a state record cannot hold a " + type.getTypeName());
    }

    private static int length(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_LENGTH || n > in.available()) { // every element takes at least a byte
            throw new IOException("bad length " + n);
        }
        return n;
    }
}
