package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PciHostBridgeTest {

    final PciHostBridge pci = new PciHostBridge();
    final RecordingSystemControl control = new RecordingSystemControl();
    final PortBus bus = new PortBus();

    PciHostBridgeTest() {
        pci.registerOn(bus);
        bus.register(ResetControlRegister.PORT, 1, new ResetControlRegister(control)); // fits in between
    }

    static int address(int bus, int device, int function, int register) {
        return 0x8000_0000 | bus << 16 | device << 11 | function << 8 | register;
    }

    int configRead(int device, int function, int register, int size) {
        bus.write(0xcf8, 4, address(0, device, function, register & 0xfc));
        return bus.read(0xcfc + (register & 3), size);
    }

    void configWrite(int device, int function, int register, int size, int value) {
        bus.write(0xcf8, 4, address(0, device, function, register & 0xfc));
        bus.write(0xcfc + (register & 3), size, value);
    }

    @Test
    void linuxType1ProbeSucceeds() {
        bus.write(0xcfb, 1, 0x01);           // outb(0x01, 0xCFB): ignored
        int saved = bus.read(0xcf8, 4);
        bus.write(0xcf8, 4, 0x8000_0000);
        assertEquals(0x8000_0000, bus.read(0xcf8, 4));
        bus.write(0xcf8, 4, saved);
        assertEquals(saved, bus.read(0xcf8, 4));
        assertEquals(List.of(), control.calls()); // 0xCF9 untouched by the dword accesses
    }

    @Test
    void addressRegisterReadsBackByteAndWordWise() {
        bus.write(0xcf8, 4, 0x8012_3456 | 3);
        assertEquals(0x8012_3454, pci.configAddress()); // bits 0-1 read as 0
        assertEquals(0x54, bus.read(0xcf8, 1));
        assertEquals(0x8012, bus.read(0xcfa, 2));
        assertEquals(0x80, bus.read(0xcfb, 1));
        bus.write(0xcf8, 2, 0);                // word write: ignored
        bus.write(0xcfa, 2, 0);
        assertEquals(0x8012_3454, pci.configAddress());
    }

    @Test
    void hostBridgeIdentifiesAsI440fx() {
        assertEquals(0x1237_8086, configRead(0, 0, 0x00, 4));
        assertEquals(0x8086, configRead(0, 0, 0x00, 2));
        assertEquals(0x1237, configRead(0, 0, 0x02, 2));
        assertEquals(0x0600_0002, configRead(0, 0, 0x08, 4)); // class 06 00 00, revision 02
        assertEquals(0x02, configRead(0, 0, 0x08, 1));
        assertEquals(0x06, configRead(0, 0, 0x0b, 1));
        assertEquals(0x00, configRead(0, 0, 0x0e, 1)); // header type 0, single function
        assertEquals(0x1100_1af4, configRead(0, 0, 0x2c, 4));
        assertEquals(0x0280_0006, configRead(0, 0, 0x04, 4)); // status, command
        assertEquals(0x02, configRead(0, 0, 0x72, 1)); // SMRAM
    }

    @Test
    void emptySlotsOtherBusesAndDisabledAccessReadAllOnes() {
        assertEquals(0xffff_ffff, configRead(1, 0, 0x00, 4));
        assertEquals(0xffff, configRead(31, 7, 0x00, 2));
        assertEquals(0xffff_ffff, configRead(0, 1, 0x00, 4)); // function 1 of the bridge
        bus.write(0xcf8, 4, address(1, 0, 0, 0));
        assertEquals(0xffff_ffff, bus.read(0xcfc, 4));
        bus.write(0xcf8, 4, address(0, 0, 0, 0) & ~0x8000_0000);
        assertEquals(0xffff_ffff, bus.read(0xcfc, 4));
        bus.write(0xcfc, 4, 0); // dropped
        assertEquals(0x1237_8086, configRead(0, 0, 0, 4));
    }

    @Test
    void readOnlyRegistersIgnoreWrites() {
        configWrite(0, 0, 0x00, 4, 0xdead_beef);
        assertEquals(0x1237_8086, configRead(0, 0, 0x00, 4));
        configWrite(0, 0, 0x08, 4, 0);
        assertEquals(0x0600_0002, configRead(0, 0, 0x08, 4));
        configWrite(0, 0, 0x10, 4, 0xffff_ffff); // BAR sizing: nothing implemented
        assertEquals(0, configRead(0, 0, 0x10, 4));
        configWrite(0, 0, 0x0e, 1, 0x80);
        assertEquals(0, configRead(0, 0, 0x0e, 1));
    }

    @Test
    void writableRegistersKeepWhatIsWritten() {
        configWrite(0, 0, 0x04, 2, 0xffff);
        assertEquals(0x0547, configRead(0, 0, 0x04, 2)); // only the writable command bits
        configWrite(0, 0, 0x04, 2, 0x0000);
        assertEquals(0x0000, configRead(0, 0, 0x04, 2));
        configWrite(0, 0, 0x59, 1, 0x30); // PAM0: BIOS shadow
        assertEquals(0x30, configRead(0, 0, 0x59, 1));
        configWrite(0, 0, 0x5a, 2, 0x3311); // byte lanes 2-3 of the dword at 0x58
        assertEquals(0x3311_3000, configRead(0, 0, 0x58, 4));
        configWrite(0, 0, 0x3c, 1, 0x0b);
        assertEquals(0x0b, configRead(0, 0, 0x3c, 1));
    }

    @Test
    void statusErrorBitsAreWriteOneToClear() {
        PciConfigSpace f = pci.hostBridge();
        f.preset(PciConfigSpace.STATUS, 2, 0x0280 | 0x2000); // received master abort
        configWrite(0, 0, 0x06, 2, 0x0280);                  // 1s on read-only bits: no effect
        assertEquals(0x2280, configRead(0, 0, 0x06, 2));
        configWrite(0, 0, 0x06, 2, 0x2000);
        assertEquals(0x0280, configRead(0, 0, 0x06, 2));
    }

    @Test
    void attachedFunctionsAnswerAndSlotsAreChecked() {
        PciConfigSpace dev = new PciConfigSpace("test", 0x1af4, 0x1000, 0, 0x020000, 0);
        pci.attach(3, 0, dev);
        assertSame(dev, pci.function(3, 0));
        assertEquals(0x1000_1af4, configRead(3, 0, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> pci.attach(3, 0, dev));
        assertThrows(IllegalArgumentException.class, () -> pci.attach(32, 0, dev));
        assertTrue(pci.describe().contains("00:03.0 test"), pci.describe());
    }

    @Test
    void resetRestoresPowerOnConfiguration() {
        configWrite(0, 0, 0x59, 1, 0x30);
        configWrite(0, 0, 0x04, 2, 0);
        pci.reset();
        assertEquals(0, pci.configAddress());
        assertEquals(0x00, configRead(0, 0, 0x59, 1));
        assertEquals(0x0006, configRead(0, 0, 0x04, 2));
        assertEquals(0x02, configRead(0, 0, 0x72, 1));
    }

    @Test
    void accessRunningPastTheDataWindowFloatsHigh() {
        bus.write(0xcf8, 4, address(0, 0, 0, 0));
        assertEquals(0xff12, bus.read(0xcff, 2)); // byte 3 of the dword (device id high), then beyond
    }

    @Test
    void describeNamesTheSelection() {
        bus.write(0xcf8, 4, address(0, 2, 1, 0x10));
        assertTrue(pci.describe().startsWith("pci: address=80001110 (00:02.1 reg 0x10 on)"), pci.describe());
    }
}
