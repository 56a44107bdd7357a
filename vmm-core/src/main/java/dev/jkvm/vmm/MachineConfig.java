package dev.jkvm.vmm;

import dev.jkvm.vmm.memory.MemoryMap;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything that describes one machine, parsed once (from QEMU-style arguments by
 * {@link dev.jkvm.vmm.cli.CommandLine}, or built in Java) and never re-read.
 *
 * <pre>{@code
 * MachineConfig config = MachineConfig.builder()
 *         .memory(64 * MemoryMap.MIB)
 *         .firmware(Firmware.bundled("hello"))
 *         .serial(SerialBackend.stream(out))
 *         .build();
 * }</pre>
 *
 * @param memoryBytes guest RAM ({@code -m}); default 128 MiB
 * @param firmware the ROM the vCPU starts in ({@code -bios}); default the bundled {@code hello}
 * @param serial where COM1's output goes; default standard output
 * @param timeout how long {@link Machine#run()} lets the guest run; {@code null} for no limit
 */
public record MachineConfig(long memoryBytes, Firmware firmware, SerialBackend serial, Duration timeout) {

    /** QEMU's default for {@code -m}. */
    public static final long DEFAULT_MEMORY = 128 * MemoryMap.MIB;

    public MachineConfig {
        Objects.requireNonNull(firmware, "firmware");
        Objects.requireNonNull(serial, "serial");
        if (memoryBytes <= MemoryMap.HIGH_RAM_START || memoryBytes % MemoryMap.PAGE != 0) {
            throw new IllegalArgumentException("memory must be a multiple of 4 KiB above 1 MiB: " + memoryBytes);
        }
    }

    /** A builder with every default set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder().memory(memoryBytes).firmware(firmware).serial(serial).timeout(timeout);
    }

    /** Fluent construction; every setter has the CLI flag it stands for in its doc. */
    public static final class Builder {
        private long memoryBytes = DEFAULT_MEMORY;
        private Firmware firmware = Firmware.DEFAULT;
        private SerialBackend serial = SerialBackend.stdio();
        private Duration timeout;

        /** {@code -m}: guest RAM in bytes. */
        public Builder memory(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        /** {@code -bios}. */
        public Builder firmware(Firmware firmware) {
            this.firmware = firmware;
            return this;
        }

        /** {@code -serial}. */
        public Builder serial(SerialBackend serial) {
            this.serial = serial;
            return this;
        }

        /** How long the guest may run; {@code null} for no limit. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public MachineConfig build() {
            return new MachineConfig(memoryBytes, firmware, serial, timeout);
        }
    }
}
