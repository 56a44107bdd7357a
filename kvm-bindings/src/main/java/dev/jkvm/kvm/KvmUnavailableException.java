package dev.jkvm.kvm;

/** KVM cannot be used on this host; the message says why and what to do, in one line. */
public final class KvmUnavailableException extends RuntimeException {
    public KvmUnavailableException(String message) {
        super(message);
    }
}
