package dev.jkvm.devices;

/**
 * A port device with one register whose writes, at times, do nothing but send a byte out (a UART's
 * THR while its THR-empty interrupt, loopback and divisor latch are off). The VMM may then let KVM
 * post the guest's writes there without an exit (coalesced PIO) and replay them later, in order,
 * as ordinary {@link PortIoDevice#write}s: the guest cannot tell, but for when the bytes come out.
 */
public interface PostedWrites {

    /** The register's offset from the device's base port. */
    int postedOffset();

    /** Whether a write to the register now has no effect but its output (and so may be posted). */
    boolean writesPostable();

    /**
     * Has {@code changed} run, outside the device's lock, after anything that may change
     * {@link #writesPostable()} (a register write, a reset, a restore); null for nothing.
     */
    void onPostableChange(Runnable changed);
}
