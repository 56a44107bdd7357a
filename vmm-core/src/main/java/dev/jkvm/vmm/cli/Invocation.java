package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.MachineConfig;

/** What a command line asks jkvm to do. */
public sealed interface Invocation {

    /**
     * Boot a machine.
     *
     * @param incoming a snapshot to resume instead of booting ({@code -incoming file:PATH})
     * @param statsFile where {@code -stats ...,file=PATH} writes the statistics; empty: stderr
     */
    record Run(MachineConfig config, java.util.Optional<java.nio.file.Path> incoming,
               java.util.Optional<java.nio.file.Path> statsFile) implements Invocation {
        public Run(MachineConfig config, java.util.Optional<java.nio.file.Path> incoming) {
            this(config, incoming, java.util.Optional.empty());
        }

        public Run(MachineConfig config) {
            this(config, java.util.Optional.empty());
        }
    }

    /** Print the usage text. */
    record Help() implements Invocation {
    }

    /** Print a list: the CPU models ({@code -cpu help}), machines ({@code -machine help}), accelerators ({@code -accel help}). */
    record Listing(String text) implements Invocation {
    }

    /** Print the version. */
    record Version() implements Invocation {
    }
}
