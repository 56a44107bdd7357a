package dev.jkvm.vmm;

import dev.jkvm.vmm.cli.CommandLine;
import dev.jkvm.vmm.cli.Invocation;
import java.io.PrintStream;

/**
 * The {@code jkvm} command: parses QEMU-style options into a {@link MachineConfig}, runs one
 * {@link Machine}, and exits with the status the guest chose. Every error a user can cause is
 * one line on stderr and status 1; internal errors get their stack trace only with
 * {@code JKVM_DEBUG=1}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            Invocation invocation = CommandLine.parse(args);
            return switch (invocation) {
                case Invocation.Help h -> {
                    out.print(CommandLine.usage());
                    yield 0;
                }
                case Invocation.Version v -> {
                    out.println("jkvm " + version());
                    yield 0;
                }
                case Invocation.Run r -> boot(r.config(), err);
            };
        } catch (JkvmException e) {
            err.println("jkvm: " + e.getMessage());
            return 1;
        } catch (RuntimeException | Error e) {
            err.println("jkvm: internal error: " + e);
            if (System.getenv("JKVM_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    private static int boot(MachineConfig config, PrintStream err) {
        try (Machine machine = Machine.create(config)) {
            RunResult result = machine.run();
            result.report().ifPresent(report -> err.print(report.format()));
            switch (result.reason()) {
                case TIMEOUT, ERROR, CLOSED -> err.println("jkvm: " + result.message());
                default -> {
                }
            }
            return result.exitStatus();
        }
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
