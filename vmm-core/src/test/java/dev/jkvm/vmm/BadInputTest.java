package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets exactly one line on stderr and status 1 (no KVM needed: it is refused first). */
class BadInputTest {

    private static String fails(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out), new PrintStream(err));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, text);
        assertEquals(1, text.lines().count(), text);
        assertFalse(text.contains("Exception"), text);
        return text.strip();
    }

    @Test
    void unknownOption() {
        assertEquals("jkvm: -no-such-option: invalid option (jkvm -h lists the options)", fails("-no-such-option"));
    }

    @Test
    void missingImage() {
        assertEquals("jkvm: -bios /nonexistent/image.rom: no such file", fails("-bios", "/nonexistent/image.rom"));
    }

    @Test
    void imageIsADirectory(@TempDir Path dir) {
        assertEquals("jkvm: -bios " + dir + ": is a directory", fails("-bios", dir.toString()));
    }

    @Test
    void imageLargerThanTheRomWindow(@TempDir Path dir) throws IOException {
        Path big = dir.resolve("big.rom");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(17L << 20);
        }
        assertEquals("jkvm: -bios " + big + ": 17825792 bytes is larger than the 16 MiB ROM window",
                fails("-bios", big.toString()));
    }

    @Test
    void anEndlessDeviceIsReadNoFurtherThanTheRomWindow() {
        assertEquals("jkvm: -bios /dev/zero: more than the 16 MiB ROM window", fails("-bios", "/dev/zero"));
    }

    @Test
    void emptyImage(@TempDir Path dir) throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.rom"));
        assertEquals("jkvm: -bios " + empty + ": the image is empty", fails("-bios", empty.toString()));
    }

    @Test
    void zeroMemory() {
        assertEquals("jkvm: -m 0: RAM size must be at least 2 MiB", fails("-m", "0"));
    }

    @Test
    void anOptionThatNeedsAnotherOne() {
        assertEquals("jkvm: -append only allowed with -kernel option", fails("-append", "console=ttyS0"));
    }

    @Test
    void optionsThatContradictEachOther() {
        assertEquals("jkvm: kernel-irqchip=off: a machine without interrupt controllers has one vCPU"
                + " (application processors need INIT/SIPI), not 2", fails("-smp", "2", "-machine", "kernel-irqchip=off"));
        assertEquals("jkvm: -vcpu-affinity: vCPU 1 does not exist (the guest has 1)", fails("-vcpu-affinity", "1@[0]"));
    }

    @Test
    void aBadValueNamesItsOptionAndValue() {
        assertEquals("jkvm: -qmp udp::1,server: unsupported (unix:PATH,server,wait=off; tcp:HOST:PORT,server,wait=off; stdio)",
                fails("-qmp", "udp::1,server"));
        assertEquals("jkvm: -qmp tcp::99999,server: '99999' is not a port number", fails("-qmp", "tcp::99999,server"));
    }

    @Test
    void theEmbeddingApiRefusesWhatTheCommandLineRefuses() {
        JkvmException e = assertThrows(JkvmException.class, () -> MachineConfig.builder().memory(512 << 10).build());
        assertEquals("memory must be a multiple of 4 KiB above 1 MiB: 524288", e.getMessage());
    }
}
