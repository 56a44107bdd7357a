package dev.jkvm.vmm.gdb;

/**
 * Everything the session thread waits for, in one queue: what the debugger sent, vCPU stops,
 * the end of the guest, the end of the server. One queue, one consumer: the debugging state
 * needs no lock.
 */
sealed interface SessionInput {

    /** A frame from the connection {@code from} (frames of an older connection are dropped). */
    record FromClient(Object from, Frame frame) implements SessionInput {
    }

    /** The connection {@code from} closed or failed. */
    record ClientGone(Object from, String why) implements SessionInput {
    }

    /** A vCPU stopped for the debugger. */
    record Stopped(StopEvent event) implements SessionInput {
    }

    /** The guest is gone (powered off, crashed, killed) with this exit status. */
    record Exited(int status) implements SessionInput {
    }

    /** The server is closing. */
    record Shutdown() implements SessionInput {
    }
}
