package dev.jkvm.vmm.qmp;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.QmpSpec;
import dev.jkvm.vmm.monitor.Monitor;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The CLI's entry to QMP: the only class {@code Main} names, and only when {@code -qmp} is given,
 * so a run without QMP loads neither these classes nor jackson-core.
 */
public final class QmpLaunch {

    private QmpLaunch() {
    }

    /**
     * Starts a monitor on every endpoint, then waits for a first client on those that did not say
     * {@code wait=off} (as QEMU waits before the guest runs). Closing the result closes them all.
     */
    public static Closeable start(Machine machine, Monitor monitor, List<QmpSpec> specs, PrintStream err) {
        List<QmpServer> servers = new ArrayList<>();
        Closeable all = () -> {
            for (QmpServer s : servers) {
                s.close();
            }
        };
        try {
            for (QmpSpec spec : specs) {
                try {
                    servers.add(QmpServer.start(machine, monitor, spec));
                } catch (IOException | RuntimeException e) {
                    throw new JkvmException((spec.pretty() ? "-qmp-pretty " : "-qmp ") + spec.describe() + ": cannot listen: "
                            + (e.getMessage() == null ? e.toString() : e.getMessage()));
                }
            }
            for (int i = 0; i < specs.size(); i++) {
                if (specs.get(i).waitForClient()) {
                    err.println("jkvm: -qmp " + specs.get(i).describe() + ": waiting for a QMP client to connect");
                    servers.get(i).awaitFirstClient();
                }
            }
        } catch (JkvmException e) {
            closeQuietly(all);
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(all);
            throw new JkvmException("interrupted while waiting for a QMP client");
        }
        return all;
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already failing
        }
    }
}
