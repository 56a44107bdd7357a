package dev.jkvm.devices.state;

/**
 * A device whose guest-visible state can be saved and put back, for snapshots. The state is a
 * record of plain values ({@link StateCodec} writes any such record), never the device's host
 * side (sinks, callbacks, timers' threads).
 *
 * @param <S> the device's state record
 */
public interface SavesState<S extends Record> {

    /** The guest-visible state now (the guest must not run meanwhile: the vCPUs are paused). */
    S saveState();

    /**
     * Puts the device back to {@code state}, as if the guest had left it that way; interrupt lines
     * are driven to the levels the state implies.
     */
    void restoreState(S state);
}
