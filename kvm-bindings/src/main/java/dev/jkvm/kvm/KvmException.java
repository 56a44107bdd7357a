package dev.jkvm.kvm;

import dev.jkvm.kvm.abi.Errno;

/**
 * A failed system call: names the call (an ioctl by its macro name, or a libc function with its
 * argument) and the errno, as {@code KVM_CREATE_VCPU: EEXIST (File exists)}.
 */
public final class KvmException extends RuntimeException {

    private final String call;
    private final int errno;

    public KvmException(String call, int errno) {
        super(call + ": " + Errno.name(errno) + " (" + Errno.description(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, e.g. {@code KVM_RUN} or {@code open /dev/kvm}. */
    public String call() {
        return call;
    }

    /** The errno value the call left. */
    public int errno() {
        return errno;
    }
}
