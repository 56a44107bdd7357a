package dev.jkvm.vmm.gdb;

import java.util.BitSet;
import java.util.List;

/**
 * What a packet asks of the session: reply packets, a resume, or the end of the session.
 *
 * <pre>{@code
 * switch (commands.handle("c")) { case Outcome.Resume r -> ...; ... }
 * }</pre>
 */
sealed interface Outcome {

    /** Send these packets, in order (several for a monitor command's output). */
    record Reply(List<String> packets) implements Outcome {
        static Reply of(String packet) {
            return new Reply(List.of(packet));
        }
    }

    /** Let the vCPUs in {@code running} go, single-stepping those in {@code stepping}; a stop reply follows later. */
    record Resume(BitSet running, BitSet stepping) implements Outcome {
    }

    /** Reply OK, then stop acknowledging packets. */
    record StartNoAck() implements Outcome {
    }

    /** Reply OK, remove every breakpoint, resume the guest and close the connection. */
    record Detach() implements Outcome {
    }

    /** End the machine; no reply. */
    record Kill() implements Outcome {
    }
}
