package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Guest memory (no KVM needed) laid out as the pc machine, with its e820 map, for loader tests. */
final class TestGuest implements AutoCloseable {

    static final int ROM_SIZE = 64 * 1024;

    final MemoryMap map;
    final GuestMemory memory;
    final E820 e820;

    TestGuest(long ramBytes) {
        this(ramBytes, List.of());
    }

    TestGuest(long ramBytes, List<E820.Entry> extra) {
        map = MemoryMap.pc(ramBytes, ROM_SIZE);
        memory = new GuestMemory(map, new byte[ROM_SIZE]);
        e820 = E820.of(map, extra);
    }

    /** {@code length} bytes of guest memory at {@code gpa}, little-endian. */
    ByteBuffer le(long gpa, int length) {
        return ByteBuffer.wrap(memory.read(gpa, length)).order(ByteOrder.LITTLE_ENDIAN);
    }

    int u32(long gpa) {
        return le(gpa, 4).getInt(0);
    }

    long u64(long gpa) {
        return le(gpa, 8).getLong(0);
    }

    /** The NUL-terminated string at {@code gpa}. */
    String cstring(long gpa) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long a = gpa; ; a++) {
            byte b = memory.read(a, 1)[0];
            if (b == 0) {
                return out.toString(StandardCharsets.UTF_8);
            }
            out.write(b);
        }
    }

    /** Whether the whole range reads as zero. */
    boolean zero(long gpa, int length) {
        for (byte b : memory.read(gpa, length)) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        memory.close();
    }
}
