package dev.jkvm.vmm.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Debian kernel and test initramfs that {@code scripts/debian-kernel} provides (cached
 * outside the repository; the first run downloads for a minute, later runs are instant).
 *
 * @param kernel the vmlinuz (or, when asked for, the uncompressed vmlinux)
 * @param initrd the initramfs whose /init prints JKVM-INIT-OK
 */
record DebianKernel(Path kernel, Path initrd) {

    /** How long the first, downloading run may take. */
    private static final long TIMEOUT_MINUTES = 10;

    /** The script, found from the module directory the tests run in (or the repository root). */
    static Path script() {
        for (Path p : List.of(Path.of("../scripts/debian-kernel"), Path.of("scripts/debian-kernel"))) {
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("scripts/debian-kernel not found from " + Path.of("").toAbsolutePath());
    }

    /**
     * Runs the script ({@code --vmlinux} when {@code vmlinux}).
     *
     * @throws IllegalStateException with the script's own one-line reason when it cannot provide them
     */
    static DebianKernel obtain(boolean vmlinux) {
        try {
            ProcessBuilder pb = vmlinux ? new ProcessBuilder(script().toString(), "--vmlinux")
                    : new ProcessBuilder(script().toString());
            Process p = pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            // Drain stderr on its own thread so a chatty script cannot block on a full pipe.
            StringBuilder err = new StringBuilder();
            Thread drain = Thread.ofVirtual().start(() -> {
                try {
                    err.append(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    err.append(e.getMessage());
                }
            });
            List<String> out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("scripts/debian-kernel took longer than " + TIMEOUT_MINUTES + " minutes");
            }
            drain.join();
            if (p.exitValue() != 0 || out.size() != 2) {
                throw new IllegalStateException("scripts/debian-kernel failed (exit " + p.exitValue() + "): " + err.toString().strip());
            }
            return new DebianKernel(Path.of(out.get(0)), Path.of(out.get(1)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run scripts/debian-kernel: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running scripts/debian-kernel", e);
        }
    }
}
