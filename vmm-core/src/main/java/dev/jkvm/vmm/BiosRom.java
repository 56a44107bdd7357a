package dev.jkvm.vmm;

import dev.jkvm.vmm.boot.RomImage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the firmware ROM comes from: a file ({@code -bios FILE}) or an image bundled with jkvm.
 *
 * <pre>{@code
 * BiosRom.file(Path.of("my.rom"));
 * BiosRom.bundled("hello");     // what jkvm boots when given nothing
 * }</pre>
 */
public sealed interface BiosRom {

    /** The image jkvm boots when the command line names none, as QEMU boots its default firmware. */
    BiosRom DEFAULT = bundled("hello");

    /** Reads the image; failures are one-line {@link JkvmException}s. */
    RomImage load();

    /**
     * {@code -bios NAME}: the file when it exists, else the bundled image of that name (with or
     * without {@code .rom}), as QEMU looks a {@code -bios} name up in its data directory.
     */
    static BiosRom resolve(String name) {
        Path path = Path.of(name);
        String base = name.endsWith(".rom") ? name.substring(0, name.length() - 4) : name;
        if (!Files.exists(path) && !name.contains("/")
                && RomImage.class.getResource(RomImage.BUNDLED_PATH + base + ".rom") != null) {
            return bundled(base);
        }
        return file(path);
    }

    /** A ROM file. */
    static BiosRom file(Path path) {
        return new File(path);
    }

    /** A bundled guest image by name ({@code hello}, {@code triple-fault}, {@code debug-exit}). */
    static BiosRom bundled(String name) {
        return new Bundled(name);
    }

    /** A ROM file. */
    record File(Path path) implements BiosRom {
        @Override
        public RomImage load() {
            return RomImage.load(path);
        }
    }

    /** A bundled guest image. */
    record Bundled(String name) implements BiosRom {
        @Override
        public RomImage load() {
            return RomImage.bundled(name);
        }
    }
}
