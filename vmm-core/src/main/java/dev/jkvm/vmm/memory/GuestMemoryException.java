package dev.jkvm.vmm.memory;

/**
 * An access outside the memory the guest has: a guest-physical range no region backs, or a
 * guest-virtual address the guest's page tables do not map. A bad address, so an
 * {@link IllegalArgumentException}: its message is one line for the monitor, QMP or a test.
 */
public final class GuestMemoryException extends IllegalArgumentException {

    private final long address;
    private final boolean virtual;

    /** {@code [gpa, gpa + length)} is not (all) backed by RAM or ROM. */
    public GuestMemoryException(long gpa, long length) {
        super(String.format("guest-physical range 0x%x+0x%x is not backed by memory", gpa, length));
        this.address = gpa;
        this.virtual = false;
    }

    private GuestMemoryException(String message, long address, boolean virtual) {
        super(message);
        this.address = address;
        this.virtual = virtual;
    }

    /** The page tables map nothing at {@code gva}. */
    public static GuestMemoryException notMapped(long gva) {
        return new GuestMemoryException(String.format("guest-virtual 0x%x is not mapped", gva), gva, true);
    }

    /** A read longer than the guest's memory: refused before anything is allocated for it. */
    public static GuestMemoryException tooLong(long address, long length, long memorySize) {
        return new GuestMemoryException(String.format("a read of %d bytes at 0x%x is longer than the guest's memory (%d bytes)",
                length, address, memorySize), address, false);
    }

    /** The first address that was not there (guest-virtual when {@link #virtual()}, else guest-physical). */
    public long address() {
        return address;
    }

    /** Whether {@link #address()} is guest-virtual (not mapped) rather than guest-physical (not backed). */
    public boolean virtual() {
        return virtual;
    }
}
