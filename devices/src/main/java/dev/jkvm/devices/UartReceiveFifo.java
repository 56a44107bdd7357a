package dev.jkvm.devices;

/**
 * The receive FIFO of a {@link Uart16550}: up to {@link Uart16550#FIFO_SIZE} characters, oldest
 * first, each with its error flags, and how many carry one (LSR bit 7 stays set while any does).
 * Guarded by the UART's lock; nothing here allocates except the copies for a saved state.
 */
final class UartReceiveFifo {

    /** Per-character flag: a break. */
    static final byte FLAG_BREAK = 1;

    private final byte[] data = new byte[Uart16550.FIFO_SIZE];
    private final byte[] flags = new byte[Uart16550.FIFO_SIZE];
    private int head;
    private int count;
    private int errorChars;

    int count() {
        return count;
    }

    /** Characters held that carry an error flag. */
    int errorChars() {
        return errorChars;
    }

    /** Whether the oldest character is a break. */
    boolean breakAtTop() {
        return count > 0 && flags[head] == FLAG_BREAK;
    }

    /** Takes the oldest character; the caller checked there is one. */
    int take() {
        int b = data[head] & 0xff;
        if (flags[head] != 0) {
            errorChars--;
        }
        head = (head + 1) % data.length;
        count--;
        return b;
    }

    /** Appends a character; the caller checked there is room. */
    void add(int b, byte flag) {
        int tail = (head + count) % data.length;
        data[tail] = (byte) b;
        flags[tail] = flag;
        count++;
        if (flag != 0) {
            errorChars++;
        }
    }

    /** A 16450-mode overrun: the new character replaces the unread one. */
    void replaceOldest(int b, byte flag) {
        if (flags[head] != 0) {
            errorChars--;
        }
        data[head] = (byte) b;
        flags[head] = flag;
        if (flag != 0) {
            errorChars++;
        }
    }

    void clear() {
        head = 0;
        count = 0;
        errorChars = 0;
    }

    /** The characters held, oldest first. */
    byte[] data() {
        return copy(data);
    }

    /** Each held character's flags, oldest first. */
    byte[] flags() {
        return copy(flags);
    }

    private byte[] copy(byte[] ring) {
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            out[i] = ring[(head + i) % ring.length];
        }
        return out;
    }

    /** Holds exactly {@code chars} with {@code charFlags} (same length, at most the FIFO's size). */
    void restore(byte[] chars, byte[] charFlags) {
        clear();
        for (int i = 0; i < chars.length; i++) {
            add(chars[i], charFlags[i]);
        }
    }
}
