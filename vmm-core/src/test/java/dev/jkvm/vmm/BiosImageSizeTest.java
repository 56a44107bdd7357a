package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A -bios file that is not whole 64 KiB blocks is refused as QEMU 7.2 refuses it ("qemu: could
 * not load PC BIOS 'x'", status 1), instead of being booted (3 KiB of zeros spun for ever). No KVM needed.
 */
class BiosImageSizeTest {

    private static String fails(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, text);
        assertEquals(1, text.lines().count(), text);
        return text.strip();
    }

    @Test
    void threeKilobytesOfZerosAreRefused(@TempDir Path dir) throws IOException {
        Path rom = Files.write(dir.resolve("zeros.rom"), new byte[3 * 1024]);
        assertEquals("jkvm: could not load PC BIOS '" + rom + "': 3072 bytes is not a multiple of 64 KiB",
                fails("-bios", rom.toString()));
    }

    @Test
    void oneAndAHalfBlocksAreRefused(@TempDir Path dir) throws IOException {
        Path rom = Files.write(dir.resolve("odd.rom"), new byte[96 * 1024]);
        assertEquals("jkvm: could not load PC BIOS '" + rom + "': 98304 bytes is not a multiple of 64 KiB",
                fails("-bios", rom.toString()));
    }
}
