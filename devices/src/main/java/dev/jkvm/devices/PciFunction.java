package dev.jkvm.devices;

/**
 * One PCI function's configuration space as the {@link PciHostBridge} reaches it.
 *
 * <p>Accesses are 1 to 4 bytes at an {@code offset} (0-255) that the bridge keeps inside one
 * aligned dword (usually 1, 2 or 4 bytes, naturally aligned). Reads return the value in the low bits.
 *
 * <pre>{@code
 * bridge.attach(3, 0, virtioConfigSpace);   // 00:03.0
 * }</pre>
 */
public interface PciFunction {

    int readConfig(int offset, int size);

    void writeConfig(int offset, int size, int value);

    /** Machine reset: back to the power-on configuration. The default does nothing. */
    default void reset() {
    }

    /** A short name for listings. */
    default String name() {
        return getClass().getSimpleName();
    }
}
