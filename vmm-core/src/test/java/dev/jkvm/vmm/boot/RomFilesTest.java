package dev.jkvm.vmm.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jkvm.vmm.JkvmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ROM file is read once per process while it stays as it was (size, modification time, inode);
 * written, replaced or just modified, it is read again, and the errors are the ones a fresh read gives.
 */
class RomFilesTest {

    private static final FileTime AN_HOUR_AGO = FileTime.from(Instant.now().minusSeconds(3600));

    @TempDir
    Path dir;

    @BeforeEach
    void forgetEarlierReads() {
        RomFiles.clear();
    }

    private static byte[] rom(int fill) {
        byte[] b = new byte[RomImage.BIOS_GRANULE];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private Path settled(String name, byte[] bytes, FileTime modified) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        Files.setLastModifiedTime(f, modified);
        return f;
    }

    @Test
    void anUnchangedFileIsReadOnce() throws Exception {
        Path f = settled("a.rom", rom(1), AN_HOUR_AGO);
        RomImage first = RomImage.load(f);
        assertSame(first, RomImage.load(f));
        assertArrayEquals(rom(1), first.bytes());
    }

    @Test
    void aFileWrittenAgainIsReadAgainEvenAtTheSameSize() throws Exception {
        Path f = settled("a.rom", rom(1), AN_HOUR_AGO);
        RomImage first = RomImage.load(f);
        settled("a.rom", rom(2), FileTime.from(AN_HOUR_AGO.toInstant().plusSeconds(1)));
        RomImage second = RomImage.load(f);
        assertNotSame(first, second);
        assertArrayEquals(rom(2), second.bytes());
        assertArrayEquals(rom(1), first.bytes(), "the first machine's bytes are not overwritten");
    }

    @Test
    void aFileReplacedByAnotherWithTheSameTimeAndSizeIsReadAgain() throws Exception {
        Path f = settled("a.rom", rom(1), AN_HOUR_AGO);
        RomImage first = RomImage.load(f);
        Path other = settled("b.rom", rom(3), AN_HOUR_AGO);
        Files.move(other, f, StandardCopyOption.REPLACE_EXISTING); // another inode
        assertArrayEquals(rom(3), RomImage.load(f).bytes());
        assertNotSame(first, RomImage.load(f));
    }

    @Test
    void aFileModifiedJustNowIsNotKept() throws Exception {
        Path f = settled("a.rom", rom(1), FileTime.from(Instant.now()));
        RomImage first = RomImage.load(f);
        RomImage second = RomImage.load(f);
        assertNotSame(first, second, "a rewrite within the clock's tick could keep its time and size");
        assertArrayEquals(first.bytes(), second.bytes());
    }

    @Test
    void aDeletedOrBadFileFailsAsAFreshReadDoes() throws Exception {
        Path f = settled("a.rom", rom(1), AN_HOUR_AGO);
        RomImage.load(f);
        Files.delete(f);
        assertEquals("-bios " + f + ": no such file", assertThrows(JkvmException.class, () -> RomImage.load(f)).getMessage());
        Files.write(f, new byte[100]);
        Files.setLastModifiedTime(f, AN_HOUR_AGO);
        assertThrows(JkvmException.class, () -> RomImage.load(f), "not a multiple of 64 KiB");
        Files.delete(f);
        Files.createDirectory(f);
        assertEquals("-bios " + f + ": is a directory", assertThrows(JkvmException.class, () -> RomImage.load(f)).getMessage());
    }

    @Test
    void aBundledImageIsReadOnce() {
        assertSame(RomImage.bundled("debug-exit"), RomImage.bundled("debug-exit"));
        assertThrows(JkvmException.class, () -> RomImage.bundled("no-such-image"));
    }
}
