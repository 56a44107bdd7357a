package dev.jkvm.bench.jmh;

import dev.jkvm.bench.BenchGuest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The bench-exits ROM, extracted to a temporary file for one JMH trial and deleted after it: what
 * every jkvm benchmark boots. JMH runs the superclass's {@code @Setup}/{@code @TearDown} for each
 * {@code @State} subclass.
 */
public abstract class BenchRomState {

    /** The extracted ROM, valid from setup to teardown. */
    protected Path rom;

    @Setup
    public void extractRom() throws IOException {
        rom = BenchGuest.extract("bench-exits", Files.createTempDirectory("jkvm-jmh"));
    }

    @TearDown
    public void deleteRom() throws IOException {
        Files.deleteIfExists(rom);
        Files.deleteIfExists(rom.getParent());
    }
}
