package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.cpu.Topology;

/** {@code -smp N}: a bare count, N cores of one socket. (The full syntax comes with the CPU models.) */
final class SmpParser {

    private SmpParser() {
    }

    static Topology parse(String text) {
        String v = text.startsWith("cpus=") ? text.substring(5) : text;
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid SMP CPUs " + text);
        }
        if (n < 1) {
            throw new IllegalArgumentException("Invalid SMP CPUs " + n + ". The min CPUs supported by machine 'pc' is 1");
        }
        return new Topology(n, n, 1, 1, n, 1);
    }
}
