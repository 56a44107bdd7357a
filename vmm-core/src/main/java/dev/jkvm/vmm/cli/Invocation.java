package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.MachineConfig;
import java.nio.file.Path;
import java.util.Optional;

/** What a command line asks jkvm to do. */
public sealed interface Invocation {

    /**
     * Boot a machine.
     *
     * @param incoming a snapshot to resume instead of booting ({@code -incoming file:PATH})
     * @param statsFile where {@code -stats ...,file=PATH} writes the statistics; empty: stderr
     */
    record Run(MachineConfig config, Optional<Path> incoming,
               Optional<Path> statsFile) implements Invocation {
        public Run(MachineConfig config, Optional<Path> incoming) {
            this(config, incoming, Optional.empty());
        }

        public Run(MachineConfig config) {
            this(config, Optional.empty());
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
