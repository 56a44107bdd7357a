package dev.jkvm.devices;

/**
 * Told about a guest access that no device claimed, on a {@link PortBus} or an {@link MmioBus}.
 *
 * <p>Why: a guest probing hardware the machine does not model is normal (the bus answers all ones,
 * as an empty ISA/PCI bus does), but while bringing up a guest it is the first thing to look at, so a
 * machine can log such accesses (e.g. the first one per port under {@code -d unimp}).
 *
 * <p>Called on the vCPU thread that made the access, synchronously, before the bus returns; an
 * implementation should be quick and should not allocate on the common (already reported) path. All
 * arguments are primitives, so the bus itself allocates nothing to call it.
 */
@FunctionalInterface
public interface UnhandledAccessListener {

    /**
     * @param write   {@code true} for a guest write (ignored by the bus), {@code false} for a read
     * @param address the port number (0..0xffff) or the guest-physical address
     * @param size    access width in bytes: 1, 2 or 4 (ports), also 8 (MMIO)
     * @param value   for a write the value written, for a read the all-ones value returned; in the low
     *                {@code 8 * size} bits, zero-extended
     */
    void unhandledAccess(boolean write, long address, int size, long value);
}
