package dev.jkvm.vmm.acpi;

import static dev.jkvm.vmm.firmware.Le.ascii;
import static dev.jkvm.vmm.firmware.Le.sum;
import static dev.jkvm.vmm.firmware.Le.u16;
import static dev.jkvm.vmm.firmware.Le.u32;
import static dev.jkvm.vmm.firmware.Le.u64;
import static dev.jkvm.vmm.firmware.Le.u8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.PmPorts;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AcpiTablesTest {

    static final MemoryMap MEMORY = MemoryMap.pc(256 * MemoryMap.MIB, 64 * MemoryMap.KIB);
    static final long BASE = 0x9F000;

    /** -smp 2,maxcpus=4. */
    static PlatformDescription twoOfFour() {
        return PlatformDescription.pc(new Topology(2, 4, 1, 1, 4, 1), MEMORY);
    }

    private static long address(AcpiImage image, String signature) {
        return image.entries().stream().filter(e -> e.signature().equals(signature)).findFirst().orElseThrow().address();
    }

    @Test
    void everyTableHasAValidHeader() {
        AcpiImage image = AcpiTables.build(twoOfFour(), BASE);
        Map<String, Integer> revisions = Map.of("DSDT", 2, "FACP", 6, "APIC", 5, "RSDT", 1, "XSDT", 1);
        for (AcpiTableEntry e : image.entries()) {
            byte[] t = image.table(e.signature());
            assertEquals(e.signature(), ascii(t, 0, 4));
            assertEquals(e.length(), (int) u32(t, 4), e.signature());
            assertEquals(0, e.address() % 8, e.signature() + " alignment");
            if (e.signature().equals("FACS")) {
                continue; // no SDT header, no checksum
            }
            assertEquals(0, sum(t, 0, t.length), e.signature() + " checksum");
            assertEquals(revisions.get(e.signature()), u8(t, 8), e.signature() + " revision");
            assertEquals("JKVM  ", ascii(t, 10, 6));
            assertEquals("JKVM" + e.signature(), ascii(t, 16, 8));
            assertEquals("JKVM", ascii(t, 28, 4));
        }
    }

    @Test
    void rsdpPointsAtBothRootTables() {
        AcpiImage image = AcpiTables.build(twoOfFour(), BASE);
        byte[] r = image.rsdp();
        assertEquals(36, r.length);
        assertEquals("RSD PTR ", ascii(r, 0, 8));
        assertEquals(0, sum(r, 0, 20), "checksum over the ACPI 1.0 part");
        assertEquals(0, sum(r, 0, 36), "extended checksum");
        assertEquals("JKVM  ", ascii(r, 9, 6));
        assertEquals(2, u8(r, 15));
        assertEquals(address(image, "RSDT"), u32(r, 16));
        assertEquals(36, u32(r, 20));
        assertEquals(address(image, "XSDT"), u64(r, 24));
    }

    @Test
    void rootTablesListTheFadtAndTheMadt() {
        AcpiImage image = AcpiTables.build(twoOfFour(), BASE);
        byte[] rsdt = image.table("RSDT");
        byte[] xsdt = image.table("XSDT");
        List<Long> expected = List.of(address(image, "FACP"), address(image, "APIC"));
        assertEquals(36 + 4 * 2, rsdt.length);
        assertEquals(36 + 8 * 2, xsdt.length);
        assertEquals(expected, List.of(u32(rsdt, 36), u32(rsdt, 40)));
        assertEquals(expected, List.of(u64(xsdt, 36), u64(xsdt, 44)));
    }

    @Test
    void facsIs64ByteAlignedAndVersion2() {
        AcpiImage image = AcpiTables.build(twoOfFour(), BASE);
        assertEquals(0, address(image, "FACS") % 64);
        byte[] f = image.table("FACS");
        assertEquals(64, f.length);
        assertEquals(2, u8(f, 32));
        assertEquals(0, u32(f, 12), "firmware waking vector");
        assertEquals(0, u64(f, 24), "X firmware waking vector");
    }

    @Test
    void hardwareSignatureFollowsTheMachine() {
        PlatformDescription more = PlatformDescription.pc(new Topology(4, 4, 1, 1, 4, 1), MEMORY);
        assertTrue(Facs.hardwareSignature(twoOfFour()) != Facs.hardwareSignature(more));
        assertEquals(Facs.hardwareSignature(twoOfFour()), Facs.hardwareSignature(twoOfFour()));
    }

    @Test
    void fadtDescribesTheFixedHardware() {
        AcpiImage image = AcpiTables.build(twoOfFour(), BASE);
        byte[] f = image.table("FACP");
        assertEquals(276, f.length);
        long facs = address(image, "FACS");
        long dsdt = address(image, "DSDT");
        assertEquals(facs, u32(f, 36));
        assertEquals(dsdt, u32(f, 40));
        assertEquals(0, u64(f, 132), "X_FIRMWARE_CTRL: FIRMWARE_CTRL alone points at the FACS below 4 GiB");
        assertEquals(dsdt, u64(f, 140));
        assertEquals(9, u16(f, 46), "SCI_INT");
        assertEquals(0, u32(f, 48), "SMI_CMD: always in ACPI mode");
        assertEquals(List.of(0x600L, 0L, 0x604L, 0L, 0L, 0x608L, 0xAFE0L, 0L),
                List.of(u32(f, 56), u32(f, 60), u32(f, 64), u32(f, 68), u32(f, 72), u32(f, 76), u32(f, 80), u32(f, 84)));
        assertEquals(List.of(4, 2, 0, 4, 4, 0), List.of(u8(f, 88), u8(f, 89), u8(f, 90), u8(f, 91), u8(f, 92), u8(f, 93)));
        assertEquals(0xFFF, u16(f, 96), "no C2");
        assertEquals(0xFFF, u16(f, 98), "no C3");
        assertEquals(0x32, u8(f, 108), "CENTURY");
        // LEGACY_DEVICES | 8042 | VGA not present | MSI not supported
        assertEquals(0x000F, u16(f, 109));
        // WBINVD | PROC_C1 | SLP_BUTTON | TMR_VAL_EXT | RESET_REG_SUP; FIX_RTC clear: RTC_STS/RTC_EN are in PM1
        assertEquals(1 | 1 << 2 | 1 << 5 | 1 << 8 | 1 << 10, (int) u32(f, 112));
        assertGas(f, 116, 1, 8, 1, 0xcf9);
        assertEquals(6, u8(f, 128), "RESET_VALUE");
        assertEquals(3, u8(f, 131), "FADT minor version");
        assertGas(f, 148, 1, 32, 2, 0x600);
        assertGas(f, 160, 0, 0, 0, 0);
        assertGas(f, 172, 1, 16, 2, 0x604);
        assertGas(f, 208, 1, 32, 3, 0x608);
        assertGas(f, 220, 1, 32, 1, 0xafe0);
    }

    private static void assertGas(byte[] t, int off, int space, int bits, int access, long address) {
        assertEquals(List.of(space, bits, 0, access, address),
                List.<Object>of(u8(t, off), u8(t, off + 1), u8(t, off + 2), u8(t, off + 3), u64(t, off + 4)),
                "GAS at " + off);
    }

    @Test
    void fadtFlagsFollowThePlatform() {
        PlatformDescription p = twoOfFour().withI8042(false).withMsi(true);
        p = new PlatformDescription(p.topology(), p.localApicAddress(), p.ioApic(), p.interruptOverrides(), p.sciIrq(),
                new PmPorts(0x600, 4, 0x604, 2, 0x608, 4, false, 0xafe0, 4), p.reset(), p.rtcCenturyIndex(),
                p.serialPorts(), p.i8042(), p.s3(), p.pciHostBridge(), p.msi(), p.cpuSignature(), p.memory());
        byte[] f = AcpiTables.build(p, BASE).table("FACP");
        assertEquals(0x0005, u16(f, 109), "LEGACY_DEVICES | VGA not present");
        assertEquals(0, u32(f, 112) & 1 << 8, "24-bit timer: no TMR_VAL_EXT");
    }

    /** The MADT's subtables as (type, bytes). */
    private static List<byte[]> subtables(byte[] madt) {
        List<byte[]> out = new ArrayList<>();
        for (int p = 44; p < madt.length; p += u8(madt, p + 1)) {
            out.add(java.util.Arrays.copyOfRange(madt, p, p + u8(madt, p + 1)));
        }
        return out;
    }

    @Test
    void madtForTwoOfFourVcpus() {
        byte[] m = AcpiTables.build(twoOfFour(), BASE).table("APIC");
        assertEquals(0xFEE00000L, u32(m, 36));
        assertEquals(1, u32(m, 40), "PCAT_COMPAT");
        List<byte[]> subs = subtables(m);
        assertEquals(4 + 1 + 2 + 1, subs.size());
        for (int i = 0; i < 4; i++) {
            byte[] s = subs.get(i);
            assertArrayEquals(new byte[] {0, 8, (byte) i, (byte) i}, java.util.Arrays.copyOf(s, 4));
            assertEquals(i < 2 ? 1 : 2, u32(s, 4), "vCPU " + i + ": Enabled, else Online Capable");
        }
        assertArrayEquals(new byte[] {1, 12, 0, 0, 0, 0, (byte) 0xC0, (byte) 0xFE, 0, 0, 0, 0}, subs.get(4));
        assertArrayEquals(new byte[] {2, 10, 0, 0, 2, 0, 0, 0, 0, 0}, subs.get(5), "IRQ0 -> GSI 2");
        assertArrayEquals(new byte[] {2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0}, subs.get(6), "IRQ9 level, active high");
        assertArrayEquals(new byte[] {4, 6, (byte) 0xFF, 0, 0, 1}, subs.get(7), "NMI on LINT1 of all");
    }

    @Test
    void madtUsesX2apicEntriesAboveApicId254() {
        PlatformDescription p = PlatformDescription.pc(new Topology(300, 300, 300, 1, 1, 1), MEMORY);
        List<byte[]> subs = subtables(AcpiTables.build(p, BASE).table("APIC"));
        assertEquals(255, subs.stream().filter(s -> s[0] == 0).count());
        List<byte[]> x2 = subs.stream().filter(s -> s[0] == 9).toList();
        assertEquals(45, x2.size());
        assertEquals(16, x2.get(0).length);
        assertEquals(255, u32(x2.get(0), 4), "x2APIC ID");
        assertEquals(1, u32(x2.get(0), 8), "enabled");
        assertEquals(255, u32(x2.get(0), 12), "processor UID = vCPU index");
        byte[] x2nmi = subs.stream().filter(s -> s[0] == 10).findFirst().orElseThrow();
        assertEquals(0xFFFF_FFFFL, u32(x2nmi, 4));
        assertEquals(1, u8(x2nmi, 8));
    }

    @Test
    void lengthDoesNotDependOnTheBase() {
        assertEquals(AcpiTables.build(twoOfFour(), BASE).tables().length, AcpiTables.length(twoOfFour()));
        assertEquals(AcpiTables.build(twoOfFour(), 0x7FFC0000L).tables().length, AcpiTables.length(twoOfFour()));
    }

    /**
     * The tables built once and laid out at several bases (the firmware tables' layout finds its
     * base from their length): the length is what each layout takes, the tables without addresses
     * are the same bytes everywhere, and the FADT, the root tables and the RSDP point into the
     * layout they are part of.
     */
    @Test
    void preparedTablesLayOutAtAnyBase() {
        for (PlatformDescription p : List.of(twoOfFour(), PlatformDescription.pc(Topology.SINGLE, MEMORY).withS3(true),
                PlatformDescription.pc(new Topology(16, 32, 2, 1, 8, 2), MEMORY).withSerialPorts(
                        List.of(dev.jkvm.vmm.firmware.SerialPort.com(0), dev.jkvm.vmm.firmware.SerialPort.com(1))))) {
            AcpiTables.Prepared prepared = AcpiTables.prepare(p);
            AcpiImage reference = AcpiTables.build(p, BASE);
            for (long base : new long[] {0x40, 0x9F000, 0x9E040, 0x7FFC0000L}) {
                AcpiImage image = prepared.at(base);
                assertEquals(AcpiTables.length(p), image.tables().length);
                assertEquals(prepared.length(), image.tables().length);
                assertEquals(base, address(image, "FACS"));
                for (String same : List.of("FACS", "DSDT", "APIC")) {
                    assertArrayEquals(reference.table(same), image.table(same), same);
                }
                byte[] fadt = image.table("FACP");
                assertEquals(address(image, "FACS"), u32(fadt, 36));
                assertEquals(address(image, "DSDT"), u64(fadt, 140));
                assertEquals(0, sum(fadt, 0, fadt.length), "FADT checksum at 0x" + Long.toHexString(base));
                assertEquals(address(image, "APIC"), u64(image.table("XSDT"), 44));
                assertEquals(address(image, "RSDT"), u32(image.rsdp(), 16));
                assertEquals(image.entries().getLast().address() + image.entries().getLast().length() - base,
                        image.tables().length, "the blob ends with the XSDT");
            }
        }
    }

    @Test
    void baseMustBe64ByteAligned() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AcpiTables.build(twoOfFour(), 0x9F010));
        assertEquals("ACPI tables base 0x9f010 must be a non-zero multiple of 64", e.getMessage());
    }
}
