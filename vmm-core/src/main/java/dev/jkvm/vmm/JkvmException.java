package dev.jkvm.vmm;

/**
 * An error the user can cause and fix (a bad option, a missing image, no KVM): its message is
 * the one line the CLI prints after {@code jkvm: }, so it must make sense on its own.
 */
public class JkvmException extends RuntimeException {
    public JkvmException(String message) {
        super(message);
    }

    public JkvmException(String message, Throwable cause) {
        super(message, cause);
    }
}
