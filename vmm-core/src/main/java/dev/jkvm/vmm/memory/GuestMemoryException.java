package dev.jkvm.vmm.memory;

/** A guest-physical access outside the memory the guest has. */
public final class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(long gpa, long length) {
        super(String.format("guest-physical range 0x%x+0x%x is not backed by memory", gpa, length));
    }
}
