package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.GuestView;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The {@code -kernel}'s variables by name, as gdb reads them with the kernel's symbols: where the
 * loader put a symbol (its segment's physical address), or through vCPU 0's page tables when it
 * lies in no loaded segment. The symbol table is read on first use. (Here, not in {@code memory/}:
 * the symbols are the boot side's; the view below knows nothing of them.)
 *
 * <pre>{@code
 * long finished = variables.value("ap_finished");
 * }</pre>
 */
public final class KernelVariables {

    private final Optional<Path> kernel;
    private final GuestView view;
    private KernelSymbols symbols;

    /** @param kernel the ELF file loaded with {@code -kernel}, empty for a machine without one */
    public KernelVariables(Optional<Path> kernel, GuestView view) {
        this.kernel = kernel;
        this.view = view;
    }

    /** The symbol table: empty without a kernel, for a flat image or for a stripped kernel. */
    public synchronized KernelSymbols symbols() {
        if (symbols == null) {
            symbols = kernel.map(KernelSymbols::read).orElse(KernelSymbols.none());
        }
        return symbols;
    }

    /**
     * The symbol called {@code name}: its link-time address, size and kind.
     *
     * @throws IllegalArgumentException when the kernel has no such symbol
     */
    public KernelSymbols.Symbol symbol(String name) {
        KernelSymbols table = symbols();
        return table.find(name).orElseThrow(() -> new IllegalArgumentException(table.size() == 0
                ? "no symbol " + name + ": " + (kernel.isEmpty() ? "the machine has no -kernel" : "the kernel has no symbol table")
                : "no symbol " + name + " in " + table.file().getFileName()));
    }

    /**
     * The bytes of variable {@code name}, as many as its symbol's size (a size the ELF file gives:
     * one larger than the guest's memory is refused before anything is read).
     *
     * @throws IllegalArgumentException when there is no such symbol or its size is unknown (0)
     */
    public byte[] read(String name) {
        KernelSymbols.Symbol s = symbol(name);
        if (s.size() <= 0 || s.size() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("symbol " + name + " has size " + s.size() + ": give a length");
        }
        return read(name, (int) s.size());
    }

    /** {@code length} bytes from symbol {@code name}'s address (see {@link #read(String)}). */
    public byte[] read(String name, int length) {
        KernelSymbols.Symbol s = symbol(name);
        OptionalLong gpa = symbols().physicalAddress(s.address());
        return gpa.isPresent() ? view.readPhysical(gpa.getAsLong(), length) : view.readVirtual(0, s.address(), length);
    }

    /** Variable {@code name} as an unsigned little-endian integer of its symbol's size (1, 2, 4 or 8 bytes). */
    public long value(String name) {
        long size = symbol(name).size();
        if (size > 0 && size != 1 && size != 2 && size != 4 && size != 8) { // refused before reading it
            throw new IllegalArgumentException("symbol " + name + " is " + size + " bytes, not an integer: use readSymbol");
        }
        return GuestMemory.littleEndian(read(name));
    }

    /**
     * Writes {@code data} at symbol {@code name}'s address, in the segment the loader put it in.
     *
     * @throws IllegalArgumentException when there is no such symbol or it lies in no loaded segment
     */
    public void write(String name, byte[] data) {
        KernelSymbols.Symbol s = symbol(name);
        long gpa = symbols().physicalAddress(s.address()).orElseThrow(() -> new IllegalArgumentException(
                String.format("symbol %s at 0x%x lies in no loaded segment of the kernel", name, s.address())));
        view.writePhysical(gpa, data);
    }
}
