package dev.jkvm.vmm.gdb;

/**
 * A view of guest memory in one address space: virtual through one vCPU's page tables, or
 * physical. Both transfer a prefix and return its length, stopping at the first byte that is not
 * there.
 *
 * <pre>{@code
 * MemoryAccess m = MemoryAccess.of(target, 0, false);
 * int n = m.read(0x1000, buffer);
 * }</pre>
 */
interface MemoryAccess {

    int read(long address, byte[] into);

    int write(long address, byte[] from);

    /** Virtual addresses through {@code cpu}, or physical ones. */
    static MemoryAccess of(DebugTarget target, int cpu, boolean physical) {
        return physical
                ? new MemoryAccess() {
                    @Override
                    public int read(long address, byte[] into) {
                        return target.readPhysical(address, into);
                    }

                    @Override
                    public int write(long address, byte[] from) {
                        return target.writePhysical(address, from);
                    }
                }
                : new MemoryAccess() {
                    @Override
                    public int read(long address, byte[] into) {
                        return target.readVirtual(cpu, address, into);
                    }

                    @Override
                    public int write(long address, byte[] from) {
                        return target.writeVirtual(cpu, address, from);
                    }
                };
    }
}
