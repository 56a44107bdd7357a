package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestMemoryException;
import dev.jkvm.vmm.memory.GuestView;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A kernel's variables by name over memory the test fills itself (the meminfo kernel's symbols; no KVM). */
class KernelVariablesTest {

    private final GuestMemory memory = new GuestMemory(MemoryMap.pc(16 * MemoryMap.MIB, 0), new byte[0]);
    private final GuestView view = new GuestView(memory, cpu -> {
        throw new AssertionError("a loaded symbol is read where the loader put it, not through page tables");
    });
    private final KernelImage meminfo = KernelImage.resolve("meminfo");
    private final KernelVariables variables = new KernelVariables(Optional.of(meminfo.path()), view);

    @AfterEach
    void close() {
        memory.close();
        meminfo.close();
    }

    private long where(String name) {
        return variables.symbols().physicalAddress(variables.symbol(name).address()).orElseThrow();
    }

    @Test
    void aVariableIsReadAndWrittenAtItsSegmentsPhysicalAddress() {
        long size = variables.symbol("watched_var").size();
        assertEquals(8, size);
        memory.writeU64(where("watched_var"), 0x0123456789abcdefL);
        assertEquals(0x0123456789abcdefL, variables.value("watched_var"));
        variables.write("watched_var", new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        assertEquals(0x0807060504030201L, memory.readU64(where("watched_var")));
        assertArrayEquals(new byte[] {1, 2}, variables.read("watched_var", 2));
    }

    @Test
    void unknownNamesAndMissingKernelsAreOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> variables.value("no_such_symbol"));
        assertTrue(e.getMessage().startsWith("no symbol no_such_symbol in "), e.getMessage());
        KernelVariables none = new KernelVariables(Optional.empty(), view);
        assertEquals(0, none.symbols().size());
        assertEquals("no symbol kmain: the machine has no -kernel",
                assertThrows(IllegalArgumentException.class, () -> none.read("kmain")).getMessage());
    }

    @Test
    void aLengthLongerThanTheGuestsMemoryIsRefusedBeforeReading() {
        GuestMemoryException e = assertThrows(GuestMemoryException.class, () -> variables.read("watched_var", Integer.MAX_VALUE));
        assertTrue(e.getMessage().contains("longer than the guest's memory"), e.getMessage());
    }
}
