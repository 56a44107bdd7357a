package dev.jkvm.junit;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One guest as a test asked for it: the QEMU-style arguments a {@link Guest} stands for, and the
 * time limit. Parsed by jkvm's own command-line parser, so an annotation means exactly what the
 * same options mean to the {@code jkvm} command.
 */
record GuestSpec(List<String> args, Duration timeout, String bootUntil) {

    static GuestSpec of(Guest g, String smpOverride, String cpuOverride) {
        List<String> a = new ArrayList<>();
        if (!g.bios().isEmpty()) {
            a.addAll(List.of("-bios", g.bios()));
        }
        if (!g.kernel().isEmpty()) {
            a.addAll(List.of("-kernel", g.kernel()));
        }
        if (!g.initrd().isEmpty()) {
            a.addAll(List.of("-initrd", g.initrd()));
        }
        if (!g.append().isEmpty()) {
            a.addAll(List.of("-append", g.append()));
        }
        a.addAll(List.of("-smp", smpOverride != null ? smpOverride : g.smp()));
        a.addAll(List.of("-m", g.memory()));
        a.addAll(List.of("-cpu", cpuOverride != null ? cpuOverride : g.cpu()));
        a.addAll(List.of("-serial", "none")); // the transcript is kept by the machine
        a.addAll(Arrays.asList(g.args()));
        return new GuestSpec(List.copyOf(a), parseDuration(g.timeout()), g.bootUntil());
    }

    MachineConfig config() {
        Invocation inv = CommandLine.parse(args.toArray(String[]::new));
        if (!(inv instanceof Invocation.Run run)) {
            throw new JkvmException("@Guest arguments do not describe a guest: " + args);
        }
        return run.config();
    }

    /** {@code 250ms}, {@code 5s}, {@code 2m}, or a bare number of seconds. */
    static Duration parseDuration(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            }
            if (t.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            }
            return Duration.ofMillis((long) (Double.parseDouble(t) * 1000));
        } catch (NumberFormatException e) {
            throw new JkvmException("@Guest timeout '" + text + "': expected e.g. 500ms, 5s, 1m");
        }
    }

    /** For the test's display name in a {@link GuestTest} matrix. */
    String describe() {
        return String.join(" ", args).replace(" -serial none", "");
    }
}
