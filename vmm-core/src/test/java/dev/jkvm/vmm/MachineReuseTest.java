package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.boot.RomImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What machines of one process share (the ROM's bytes, the firmware tables and e820 of one shape)
 * is never what a guest changes: each machine has its own memory and devices, a table the guest
 * overwrites in one machine is intact in the next, and a ROM file changed between two machines
 * boots as it is now.
 */
@RequiresKvm
class MachineReuseTest {

    private static final long RAM = 0x8000;
    private static final int CMOS_INDEX = 0x70;
    private static final int CMOS_DATA = 0x71;
    private static final int CMOS_USER_BYTE = 0x38;

    private static MachineConfig tiny() {
        return MachineConfig.builder().firmware(BiosRom.bundled("debug-exit")).serial(SerialBackend.none()).irqchip(false).build();
    }

    /** A process's first machine's shape is not kept (see ShapeCache): this test's machines are not the first. */
    @BeforeEach
    void notTheProcesssFirstMachine() {
        Machine.create(tiny()).close();
    }

    @Test
    void machinesOfOneShapeShareTheirTablesButNotTheirMemoryOrDevices() {
        try (Machine a = Machine.create(tiny()); Machine b = Machine.create(tiny())) {
            assertSame(a.tables(), b.tables());
            assertSame(a.e820(), b.e820());
            assertNotSame(a.memory(), b.memory());
            assertNotSame(a.devices(), b.devices());

            a.writePhysical(RAM, "machine a".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals(new byte[9], b.readPhysical(RAM, 9));

            long rsdp = a.tables().rsdpAddress().orElseThrow();
            assertEquals("RSD PTR ", new String(b.readPhysical(rsdp, 8), StandardCharsets.US_ASCII));
            a.writePhysical(rsdp, new byte[8]); // as a guest overwriting its tables
            assertEquals("RSD PTR ", new String(b.readPhysical(rsdp, 8), StandardCharsets.US_ASCII));
            assertEquals("RSD PTR ", new String(a.tables().rsdpBytes().orElseThrow(), 0, 8, StandardCharsets.US_ASCII),
                    "the shared tables are copied into guest memory, never mapped there");
            try (Machine c = Machine.create(tiny())) {
                assertEquals("RSD PTR ", new String(c.readPhysical(rsdp, 8), StandardCharsets.US_ASCII));
            }

            a.ports().write(CMOS_INDEX, 1, CMOS_USER_BYTE);
            a.ports().write(CMOS_DATA, 1, 0x5a);
            b.ports().write(CMOS_INDEX, 1, CMOS_USER_BYTE);
            b.ports().write(CMOS_DATA, 1, 0xa5);
            a.ports().write(CMOS_INDEX, 1, CMOS_USER_BYTE);
            assertEquals(0x5a, a.ports().read(CMOS_DATA, 1));

            assertEquals(85, a.run(Duration.ofSeconds(30)).exitStatus());
            assertEquals(85, b.run(Duration.ofSeconds(30)).exitStatus());
        }
    }

    @Test
    void aRomFileChangedBetweenTwoMachinesBootsAsItIsNow(@TempDir Path dir) throws Exception {
        Path rom = dir.resolve("guest.rom");
        FileTime anHourAgo = FileTime.from(Instant.now().minusSeconds(3600));
        Files.write(rom, RomImage.bundled("debug-exit").bytes());
        Files.setLastModifiedTime(rom, anHourAgo);
        MachineConfig config = MachineConfig.builder().firmware(BiosRom.file(rom)).serial(SerialBackend.none()).irqchip(false).build();
        for (int i = 0; i < 2; i++) {
            try (Machine m = Machine.create(config)) {
                assertEquals(85, m.run(Duration.ofSeconds(30)).exitStatus());
            }
        }
        byte[] hello = RomImage.bundled("hello").bytes();
        assertEquals(RomImage.bundled("debug-exit").bytes().length, hello.length, "the same size: only the time tells");
        Files.write(rom, hello);
        Files.setLastModifiedTime(rom, FileTime.from(anHourAgo.toInstant().plusSeconds(1)));
        try (Machine m = Machine.create(config)) {
            RunResult r = m.run(Duration.ofSeconds(30));
            assertTrue(r.serial().contains("Hello from the guest"), r.serial());
        }
    }
}
