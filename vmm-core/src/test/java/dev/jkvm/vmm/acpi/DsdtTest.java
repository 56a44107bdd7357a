package dev.jkvm.vmm.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.SerialPort;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class DsdtTest {

    private static String hex(byte[] b) {
        return HexFormat.of().withUpperCase().formatHex(b);
    }

    private static String hexOf(String ascii) {
        return hex(ascii.getBytes(StandardCharsets.US_ASCII));
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void s5IsAlwaysThereAndS3OnlyWhenOffered() {
        // Name (\_S5, Package (4) {0, 0, 0, 0}): NameOp, root, "_S5_", PackageOp, PkgLength 6, 4 elements, 4 ZeroOps.
        String s5 = "085C" + hexOf("_S5_") + "1206" + "04" + "00000000";
        String s3 = "085C" + hexOf("_S3_") + "1206" + "04" + "01010000";
        String without = hex(Dsdt.build(AcpiTablesTest.twoOfFour()));
        assertTrue(without.contains(s5));
        assertFalse(without.contains(hexOf("_S3_")));
        String with = hex(Dsdt.build(AcpiTablesTest.twoOfFour().withS3(true)));
        assertTrue(with.contains(s5));
        assertTrue(with.contains(s3));
    }

    @Test
    void oneProcessorDevicePerPossibleVcpuWithStaFromTheTopology() {
        String dsdt = hex(Dsdt.build(AcpiTablesTest.twoOfFour()));
        assertEquals(4, count(dsdt, hexOf("ACPI0007")));
        // Method (_STA) { Return (0x0F) } and { Return (Zero) }: MethodOp PkgLength 9 / 8, "_STA", flags 0, ReturnOp.
        String running = "1409" + hexOf("_STA") + "00" + "A40A0F";
        String absent = "1408" + hexOf("_STA") + "00" + "A400";
        assertEquals(2, count(dsdt, running));
        assertEquals(2, count(dsdt, absent));
        assertTrue(dsdt.contains(hexOf("C003")));
        assertEquals(List.of("C000", "C00A", "CFFF"), List.of(Dsdt.processorName(0), Dsdt.processorName(10),
                Dsdt.processorName(4095)));
    }

    @Test
    void devicesFollowThePlatform() {
        PlatformDescription full = AcpiTablesTest.twoOfFour().withSerialPorts(List.of(SerialPort.COM1, SerialPort.COM2));
        String dsdt = hex(Dsdt.build(full));
        assertTrue(dsdt.contains(hexOf("PCI0")));
        assertTrue(dsdt.contains(hexOf("KBD_")));
        assertTrue(dsdt.contains(hexOf("RTC_")));
        assertTrue(dsdt.contains(hexOf("COM2")));
        // COM2's _CRS: IO (Decode16, 0x2F8, 0x2F8, 1, 8) IRQNoFlags () {3}
        assertTrue(dsdt.contains("4701F802F802010822080079"));

        String bare = hex(Dsdt.build(full.withPciHostBridge(false).withI8042(false).withSerialPorts(List.of())));
        assertFalse(bare.contains(hexOf("PCI0")));
        assertFalse(bare.contains(hexOf("KBD_")));
        assertFalse(bare.contains(hexOf("COM1")));
        assertTrue(bare.contains(hexOf("RTC_")));
    }

    @Test
    void serialPortNames() {
        assertEquals(List.of("COM1", "COM9", "CM10"), List.of(Dsdt.serialName(0), Dsdt.serialName(8), Dsdt.serialName(9)));
    }
}
