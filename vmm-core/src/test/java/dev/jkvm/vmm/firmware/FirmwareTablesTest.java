package dev.jkvm.vmm.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.acpi.AcpiTableEntry;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirmwareTablesTest {

    private static final MemoryMap MEMORY = MemoryMap.pc(64 * MemoryMap.MIB, 64 * MemoryMap.KIB);

    private static PlatformDescription platform(int cpus, int maxCpus) {
        return PlatformDescription.pc(new Topology(cpus, maxCpus, maxCpus, 1, 1, 1), MEMORY);
    }

    /** Conventional memory with the placements copied in. */
    private static byte[] lowMemory(FirmwareTables t) {
        byte[] low = new byte[(int) FirmwareTables.END];
        for (Placement p : t.placements()) {
            System.arraycopy(p.bytes(), 0, low, (int) p.address(), p.length());
        }
        return low;
    }

    private static void assertNoOverlapInsideTheReservedRange(FirmwareTables t) {
        long previousEnd = t.reservedBase();
        for (Placement p : t.placements()) {
            assertTrue(p.address() >= previousEnd, p.what() + " overlaps");
            previousEnd = p.end();
        }
        assertTrue(previousEnd <= t.reservedEnd());
    }

    @Test
    void aSmallMachineTakesTheTopPageOfConventionalMemory() {
        FirmwareTables t = FirmwareTables.layOut(platform(2, 4), true, true);
        assertEquals(0x9F000, t.reservedBase());
        assertEquals(0xA0000, t.reservedEnd());
        assertEquals(0x9FC10, t.rsdpAddress().orElseThrow());
        assertEquals(0x9FC0, FirmwareTables.EBDA_SEGMENT);
        assertEquals(List.of("ACPI tables", "MP configuration table", "MP floating pointer", "ACPI RSDP"),
                t.placements().stream().map(Placement::what).toList());
        assertNoOverlapInsideTheReservedRange(t);
        assertEquals(List.of("RSDP", "FACS", "DSDT", "FACP", "APIC", "RSDT", "XSDT"),
                t.acpiTables().stream().map(AcpiTableEntry::signature).toList());
    }

    @Test
    void aGuestScanningTheLastKibFindsBothPointers() {
        byte[] low = lowMemory(FirmwareTables.layOut(platform(2, 4), true, true));
        GuestMpParser.Config mp = GuestMpParser.scan(low, 0, 0x9FC00, 1024).orElseThrow();
        assertEquals(4, mp.processors().size());
        // ACPI's scan: 16-byte boundaries of the EBDA's first KiB, checksum over 20 bytes.
        long rsdp = -1;
        for (int a = 0x9FC00; a < 0xA0000; a += 16) {
            if (Le.ascii(low, a, 8).equals("RSD PTR ") && Le.sum(low, a, 20) == 0) {
                rsdp = a;
                break;
            }
        }
        assertEquals(0x9FC10, rsdp);
        long xsdt = Le.u64(low, (int) rsdp + 24);
        assertEquals("XSDT", Le.ascii(low, (int) xsdt, 4));
        long fadt = Le.u64(low, (int) xsdt + 36);
        assertEquals("FACP", Le.ascii(low, (int) fadt, 4));
    }

    @Test
    void withoutAcpiOnlyTheMpTable() {
        FirmwareTables t = FirmwareTables.layOut(platform(1, 1), false, true);
        assertTrue(t.rsdpAddress().isEmpty());
        assertTrue(t.acpiTables().isEmpty());
        assertEquals(List.of("MP configuration table", "MP floating pointer"),
                t.placements().stream().map(Placement::what).toList());
        assertEquals(0x9F000, t.reservedBase());
    }

    @Test
    void withNeitherNothingIsReserved() {
        FirmwareTables t = FirmwareTables.layOut(platform(1, 1), false, false);
        assertTrue(t.placements().isEmpty());
        assertEquals(t.reservedBase(), t.reservedEnd());
    }

    @Test
    void manyVcpusMoveTheBaseDown() {
        FirmwareTables t = FirmwareTables.layOut(platform(8, 288), true, true);
        assertTrue(t.reservedBase() < 0x9F000 && t.reservedBase() >= Layout.FIRMWARE_TABLES_LOWEST,
                Long.toHexString(t.reservedBase()));
        assertEquals(0, t.reservedBase() % 4096);
        assertNoOverlapInsideTheReservedRange(t);
    }

    @Test
    void tooManyVcpusDoNotFit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FirmwareTables.layOut(platform(1, 4096), true, true));
        assertTrue(e.getMessage().contains("do not fit in conventional memory"), e.getMessage());
    }

    @Test
    void writesIntoGuestMemory() {
        FirmwareTables t = FirmwareTables.layOut(platform(2, 4), true, true);
        try (GuestMemory memory = new GuestMemory(MEMORY, new byte[64 * 1024])) {
            t.writeTo(memory);
            for (Placement p : t.placements()) {
                assertArrayEquals(p.bytes(), memory.read(p.address(), p.length()), p.what());
            }
        }
    }
}
