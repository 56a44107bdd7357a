package dev.jkvm.vmm.firmware;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.cpu.CpuSignature;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlatformDescriptionTest {

    private static final PlatformDescription PC = PlatformDescription.pc(Topology.SINGLE,
            MemoryMap.pc(64 * MemoryMap.MIB, 64 * MemoryMap.KIB));

    @Test
    void pcWiresIrq0ToPin2AndTheSciLevelHigh() {
        assertEquals(2, PC.gsiOf(0));
        assertEquals(9, PC.gsiOf(9));
        assertEquals(4, PC.gsiOf(4));
        assertEquals(0x0D, PC.overrideOf(9).orElseThrow().flags());
        assertEquals(0, PC.overrideOf(0).orElseThrow().flags());
        assertTrue(PC.overrideOf(4).isEmpty());
        assertFalse(PC.isaIrqConnected(2), "the cascade's pin is IRQ 0's");
        assertTrue(PC.isaIrqConnected(0));
        assertTrue(PC.isaIrqConnected(15));
    }

    @Test
    void pcDefaults() {
        assertEquals(List.of(SerialPort.COM1), PC.serialPorts());
        assertEquals(0xFEE00000L, PC.localApicAddress());
        assertEquals(IoApic.PC, PC.ioApic());
        assertEquals(0x32, PC.rtcCenturyIndex());
        assertTrue(PC.i8042());
        assertFalse(PC.s3());
        assertTrue(PC.withS3(true).s3());
        assertFalse(PC.withI8042(false).i8042());
        assertFalse(PC.withPciHostBridge(false).pciHostBridge());
        assertTrue(PC.withMsi(true).msi());
    }

    @Test
    void interruptFlagsEncodePolarityAndTrigger() {
        assertEquals(0x0F, new InterruptOverride(5, 5, InterruptOverride.Polarity.ACTIVE_LOW,
                InterruptOverride.Trigger.LEVEL).flags());
        assertEquals(0x05, new InterruptOverride(5, 5, InterruptOverride.Polarity.ACTIVE_HIGH,
                InterruptOverride.Trigger.EDGE).flags());
    }

    @Test
    void rejectsWiringTheIoApicDoesNotHave() {
        InterruptOverride toPin30 = new InterruptOverride(5, 30, InterruptOverride.Polarity.CONFORMS,
                InterruptOverride.Trigger.CONFORMS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PlatformDescription(PC.topology(), PC.localApicAddress(), PC.ioApic(), List.of(toPin30), 9,
                        PC.pm(), PC.reset(), 0x32, List.of(), true, false, true, false, CpuSignature.DEFAULT, PC.memory()));
        assertEquals("ISA IRQ 5 is routed to GSI 30, which the I/O APIC does not have", e.getMessage());
    }

    @Test
    void rejectsAnIrqOverriddenTwice() {
        InterruptOverride a = new InterruptOverride(5, 5, InterruptOverride.Polarity.CONFORMS, InterruptOverride.Trigger.CONFORMS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PlatformDescription(PC.topology(), PC.localApicAddress(), PC.ioApic(), List.of(a, a), 9,
                        PC.pm(), PC.reset(), 0x32, List.of(), true, false, true, false, CpuSignature.DEFAULT, PC.memory()));
        assertEquals("ISA IRQ 5 is overridden twice", e.getMessage());
    }

    @Test
    void rejectsBadPartValues() {
        assertThrows(IllegalArgumentException.class, () -> new SerialPort(0x3f8, 16));
        assertThrows(IllegalArgumentException.class, () -> new IoApic(0, 0xFEC00001L, 0, 24, 0x11));
        assertThrows(IllegalArgumentException.class, () -> new PmPorts(0x600, 3, 0x604, 2, 0x608, 4, true, 0xafe0, 4));
        assertThrows(IllegalArgumentException.class, () -> new ResetRegister(0xcf9, 0x100));
    }
}
