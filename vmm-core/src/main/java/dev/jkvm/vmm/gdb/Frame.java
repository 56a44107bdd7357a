package dev.jkvm.vmm.gdb;

/**
 * One unit the debugger sent, as {@link FrameDecoder} cut the byte stream: a packet (payload
 * already run-length decoded; binary escapes are left for the command that expects binary), an
 * acknowledgement, an interrupt request, or a frame that had to be dropped.
 */
sealed interface Frame {

    /** A packet whose checksum matched. */
    record Packet(String payload) implements Frame {
    }

    /** A packet whose checksum did not match: ask for it again. */
    record BadChecksum(String payload) implements Frame {
    }

    /** A packet longer than the stub accepts, dropped whole. */
    record Oversize(int length) implements Frame {
    }

    /** {@code +}: the last packet arrived. */
    record Ack() implements Frame {
    }

    /** {@code -}: the last packet arrived damaged, send it again. */
    record Nak() implements Frame {
    }

    /** The byte 0x03 (Ctrl-C) outside a packet: stop the target. */
    record Interrupt() implements Frame {
    }

    /** Bytes outside any packet that mean nothing (a telnet, noise). */
    record Garbage(int count) implements Frame {
    }
}
