package dev.jkvm.vmm;

import java.io.PrintStream;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM end the guest the orderly way, as QEMU's "terminating on signal": every vCPU
 * is kicked out of the guest, the run returns, and the CLI releases everything and prints what it
 * was asked to print before exiting. (A JVM shutdown hook could not choose the exit status.)
 */
final class SignalStop {

    private SignalStop() {
    }

    static void install(Machine machine, PrintStream err) {
        for (String name : new String[] {"INT", "TERM"}) {
            Signal.handle(new Signal(name), s -> {
                err.println("jkvm: terminating on signal " + s.getNumber());
                machine.stop(RunResult.of(RunResult.Reason.SIGNAL, 0, "terminating on signal " + s.getNumber()));
            });
        }
    }
}
