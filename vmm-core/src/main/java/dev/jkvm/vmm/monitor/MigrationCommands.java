package dev.jkvm.vmm.monitor;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.snapshot.Snapshot;
import java.nio.file.Path;
import java.util.Locale;

/**
 * QEMU's {@code migrate} and {@code info migrate}, to a file: {@code migrate file:PATH} (QEMU 8.2's
 * spelling) saves the machine as a {@link Snapshot} and leaves it paused, as QEMU leaves its source
 * after a migration; {@code jkvm -incoming file:PATH} resumes it.
 */
final class MigrationCommands {

    /** What {@code info migrate} reports of the last migration. */
    private record Status(String state, long millis, long fileBytes, long storedPages, long totalPages, String error) {
    }

    private final Machine machine;
    private volatile Status last;

    MigrationCommands(Machine machine) {
        this.machine = machine;
    }

    void install(Monitor monitor) {
        monitor.addCommand("migrate", "file:PATH", "save the machine to a file and leave it paused (resume it with"
                + " -incoming file:PATH)", this::migrate);
        monitor.addInfo("migrate", "", "how the last migration went", a -> info());
    }

    private String migrate(String[] args) {
        String uri = null;
        for (String a : args) {
            if (!a.equals("-d")) { // QEMU's "detach": jkvm's migration is done when the command returns
                uri = a;
            }
        }
        if (uri == null) {
            return "Error: migrate needs a URI: file:PATH\n";
        }
        if (!uri.startsWith("file:") || uri.length() == 5) {
            return "Error: jkvm migrates to files only (migrate file:PATH), not '" + uri + "'\n";
        }
        Path file = Path.of(uri.substring(5).split(",", 2)[0]);
        long t0 = System.nanoTime();
        boolean wasPaused = machine.paused();
        try {
            if (!machine.pause()) {
                throw new JkvmException("not every vCPU stopped in time");
            }
            Snapshot s = machine.snapshot();
            long bytes = s.save(file);
            last = new Status("completed", (System.nanoTime() - t0) / 1_000_000, bytes, s.memory().storedPages(),
                    s.memory().totalPages(), null);
            return "";
        } catch (JkvmException e) {
            if (!wasPaused) {
                machine.resume(); // a failed migration leaves the source running, as QEMU's
            }
            last = new Status("failed", (System.nanoTime() - t0) / 1_000_000, 0, 0, 0, e.getMessage());
            return "Error: " + e.getMessage() + "\n";
        }
    }

    private String info() {
        Status s = last;
        if (s == null) {
            return ""; // QEMU says nothing before the first migration either
        }
        if (s.error() != null) {
            return "Migration status: failed (" + s.error() + ")\n" + String.format(Locale.ROOT, "total time: %d ms%n", s.millis());
        }
        long normal = s.storedPages();
        return String.format(Locale.ROOT, """
                Migration status: %s
                total time: %d ms
                downtime: %d ms
                transferred ram: %d kbytes
                remaining ram: 0 kbytes
                total ram: %d kbytes
                duplicate: %d pages
                normal: %d pages
                normal bytes: %d kbytes
                file size: %d bytes
                """, s.state(), s.millis(), s.millis(), normal * 4, s.totalPages() * 4, s.totalPages() - normal, normal,
                normal * 4, s.fileBytes());
    }
}
