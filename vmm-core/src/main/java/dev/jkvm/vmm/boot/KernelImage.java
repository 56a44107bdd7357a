package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.JkvmException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where {@code -kernel NAME} comes from: the file, when it exists; otherwise a test kernel bundled
 * with jkvm ({@code cpuinfo}, {@code meminfo}, ...), copied out of the class path into a temporary
 * file the machine deletes when it closes (the loaders read files).
 *
 * @param path the file to load
 * @param temporary whether {@link #close()} deletes it
 */
public record KernelImage(Path path, boolean temporary) implements AutoCloseable {

    /** Resolves {@code name}; a missing file that is no bundled kernel is left for the loader to refuse. */
    public static KernelImage resolve(String name) {
        Path file = Path.of(name);
        String base = name.endsWith(".elf") ? name.substring(0, name.length() - 4) : name;
        if (Files.exists(file) || name.contains("/")) {
            return new KernelImage(file, false);
        }
        try (InputStream in = KernelImage.class.getResourceAsStream(RomImage.BUNDLED_PATH + base + ".elf")) {
            if (in == null) {
                return new KernelImage(file, false);
            }
            Path tmp = Files.createTempFile("jkvm-" + base + "-", ".elf");
            Files.write(tmp, in.readAllBytes());
            return new KernelImage(tmp, true);
        } catch (IOException e) {
            throw new JkvmException("-kernel " + name + ": cannot extract the bundled kernel: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (temporary) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                // a leftover temp file is harmless
            }
        }
    }
}
