package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.MemoryMap;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A firmware image, mapped at the top of the 32-bit space so its last 16 bytes hold the reset
 * vector the CPU fetches first (CS base 0xFFFF0000, IP 0xFFF0), as a PC's BIOS flash is.
 *
 * <pre>{@code
 * RomImage rom = RomImage.load(Path.of("hello.rom"));   // -bios hello.rom
 * RomImage dflt = RomImage.bundled("hello");            // the guest jkvm boots by default
 * }</pre>
 */
public record RomImage(String name, byte[] bytes) {
    // bytes: shared by the machines of a process that boot one file (RomFiles), so only ever read

    /** Where the bundled guest images live on the class path (module guest-images). */
    public static final String BUNDLED_PATH = "/dev/jkvm/guest/";
    /** A BIOS image is whole 64 KiB blocks, as QEMU requires. */
    public static final int BIOS_GRANULE = 64 * 1024;

    public RomImage {
        if (bytes.length == 0) {
            throw new JkvmException("-bios " + name + ": the image is empty");
        }
        if (bytes.length > Layout.MAX_ROM_SIZE) {
            throw new JkvmException("-bios " + name + ": " + bytes.length + " bytes is larger than the "
                    + Layout.MAX_ROM_SIZE / MemoryMap.MIB + " MiB ROM window");
        }
        if (bytes.length % BIOS_GRANULE != 0) {
            // QEMU's rule (pc_system_firmware_init: the size must be a multiple of 64 KiB)
            throw new JkvmException("could not load PC BIOS '" + name + "': " + bytes.length
                    + " bytes is not a multiple of 64 KiB");
        }
    }

    /**
     * Reads a ROM file; every failure becomes one line naming the file. A file this process read
     * before and has not changed since (see {@link RomFiles}) is not read again: one {@code stat}.
     */
    public static RomImage load(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            if (attributes.isDirectory()) {
                throw new JkvmException("-bios " + file + ": is a directory");
            }
            long size = attributes.isRegularFile() ? attributes.size() : -1;
            if (size > Layout.MAX_ROM_SIZE) {
                throw new JkvmException("-bios " + file + ": " + size + " bytes is larger than the "
                        + Layout.MAX_ROM_SIZE / MemoryMap.MIB + " MiB ROM window");
            }
            RomImage known = attributes.isRegularFile() ? RomFiles.find(file, attributes) : null;
            if (known != null) {
                return known;
            }
            // At most one byte past the window: a device (/dev/zero) or a pipe has no size to check first.
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes((int) Layout.MAX_ROM_SIZE + 1);
            }
            if (bytes.length > Layout.MAX_ROM_SIZE) {
                throw new JkvmException("-bios " + file + ": more than the " + Layout.MAX_ROM_SIZE / MemoryMap.MIB
                        + " MiB ROM window");
            }
            RomImage image = new RomImage(file.toString(), bytes);
            RomFiles.keep(file, attributes, image);
            return image;
        } catch (NoSuchFileException e) {
            throw new JkvmException("-bios " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new JkvmException("-bios " + file + ": permission denied");
        } catch (IOException e) {
            throw new JkvmException("-bios " + file + ": cannot read: " + e.getMessage());
        }
    }

    /** A guest image bundled with jkvm ({@code hello}, {@code triple-fault}, ...); read once per process. */
    public static RomImage bundled(String name) {
        RomImage known = BUNDLED.get(name);
        if (known != null) {
            return known;
        }
        try (InputStream in = RomImage.class.getResourceAsStream(BUNDLED_PATH + name + ".rom")) {
            if (in == null) {
                throw new JkvmException("no bundled guest image '" + name + "' (is guest-images on the class path?)");
            }
            RomImage image = new RomImage(name + ".rom (bundled)", in.readAllBytes());
            BUNDLED.put(name, image); // as many as jkvm bundles: only names that exist get here
            return image;
        } catch (IOException e) {
            throw new JkvmException("cannot read bundled guest image " + name + ": " + e.getMessage());
        }
    }

    /** The bundled images read so far: the class path's images do not change while the process runs. */
    private static final Map<String, RomImage> BUNDLED = new ConcurrentHashMap<>();
}
