package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.MachineConfig;

/** What a command line asks jkvm to do. */
public sealed interface Invocation {

    /** Boot a machine. */
    record Run(MachineConfig config) implements Invocation {
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
