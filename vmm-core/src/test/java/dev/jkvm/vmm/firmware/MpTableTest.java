package dev.jkvm.vmm.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.vmm.cpu.CpuSignature;
import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class MpTableTest {

    private static final MemoryMap MEMORY = MemoryMap.pc(256 * MemoryMap.MIB, 64 * MemoryMap.KIB);
    private static final long FP = 0x9FC00;
    private static final long CONFIG = 0x9F000;

    /** -smp 2,maxcpus=4. */
    private static PlatformDescription twoOfFour() {
        return PlatformDescription.pc(new Topology(2, 4, 1, 1, 4, 1), MEMORY);
    }

    /** Lays the image into a copy of conventional memory and scans the last KiB like Linux. */
    private static GuestMpParser.Config place(PlatformDescription p) {
        return place(p, CONFIG);
    }

    private static GuestMpParser.Config place(PlatformDescription p, long config) {
        MpTable.Image image = MpTable.build(p, config);
        byte[] low = new byte[0xA0000];
        System.arraycopy(image.floatingPointer(), 0, low, (int) FP, image.floatingPointer().length);
        System.arraycopy(image.configTable(), 0, low, (int) config, image.configTable().length);
        return GuestMpParser.scan(low, 0, 639 * 1024, 1024).orElseThrow();
    }

    @Test
    void floatingPointerIsValidAndPointsAtTheConfigurationTable() {
        byte[] fp = MpTable.build(twoOfFour(), CONFIG).floatingPointer();
        assertEquals(16, fp.length);
        assertEquals("_MP_", Le.ascii(fp, 0, 4));
        assertEquals(CONFIG, Le.u32(fp, 4));
        assertEquals(1, Le.u8(fp, 8), "length in paragraphs");
        assertEquals(4, Le.u8(fp, 9), "MP spec 1.4");
        assertEquals(0, Le.sum(fp, 0, 16), "checksum");
        assertEquals(0, Le.u8(fp, 11), "feature byte 1: configuration table present");
        assertEquals(0, Le.u8(fp, 12), "virtual wire mode, no IMCR");
    }

    @Test
    void configurationTableHeader() {
        byte[] cfg = MpTable.build(twoOfFour(), CONFIG).configTable();
        assertEquals("PCMP", Le.ascii(cfg, 0, 4));
        assertEquals(cfg.length, Le.u16(cfg, 4));
        assertEquals(4, Le.u8(cfg, 6));
        assertEquals(0, Le.sum(cfg, 0, cfg.length));
        assertEquals("JKVM    ", Le.ascii(cfg, 8, 8));
        assertEquals(0xFEE00000L, Le.u32(cfg, 36));
        assertEquals(0, Le.u16(cfg, 40), "no extended table");
        assertEquals(MpTable.configTableLength(twoOfFour()), cfg.length);
    }

    @Test
    void oneProcessorEntryPerPossibleVcpuWithTheRestDisabled() {
        GuestMpParser.Config c = place(twoOfFour());
        assertEquals(4, c.processors().size());
        assertEquals(List.of(true, true, false, false), c.processors().stream().map(GuestMpParser.Processor::enabled).toList());
        assertEquals(List.of(true, false, false, false), c.processors().stream().map(GuestMpParser.Processor::bsp).toList());
        assertEquals(List.of(0, 1, 2, 3), c.processors().stream().map(GuestMpParser.Processor::apicId).toList());
        for (GuestMpParser.Processor p : c.processors()) {
            assertEquals(0x14, p.apicVersion());
            assertEquals(CpuSignature.DEFAULT.signature(), (int) p.signature());
            assertEquals(CpuSignature.DEFAULT.features(), (int) p.features());
        }
    }

    @Test
    void processorsCarryTheTopologysApicIds() {
        // -smp 6,sockets=2,cores=3: package 1 starts at APIC ID 4.
        PlatformDescription p = PlatformDescription.pc(new Topology(6, 6, 2, 1, 3, 1), MEMORY)
                .withCpuSignature(new CpuSignature(0x806F8, 0x178BFBFF));
        GuestMpParser.Config c = place(p);
        assertEquals(List.of(0, 1, 2, 4, 5, 6), c.processors().stream().map(GuestMpParser.Processor::apicId).toList());
        assertEquals(0x806F8, c.processors().get(3).signature());
        assertEquals(0x178BFBFFL, c.processors().get(3).features());
    }

    @Test
    void busIoApicAndInterruptWiring() {
        GuestMpParser.Config c = place(twoOfFour());
        assertEquals(List.of(new GuestMpParser.Bus(0, "ISA   ")), c.buses());
        assertEquals(List.of(new GuestMpParser.IoApicEntry(0, 0x11, 1, 0xFEC00000L)), c.ioApics());

        // IRQ 0..15 but 2; IRQ 0 on pin 2; IRQ 9 (the SCI) level-triggered active high.
        assertEquals(15, c.ioInterrupts().size());
        for (GuestMpParser.Interrupt i : c.ioInterrupts()) {
            assertEquals(0, i.type(), "vectored");
            assertEquals(0, i.sourceBus());
            assertEquals(0, i.destApic());
            assertTrue(i.sourceIrq() != 2);
            int expectedPin = i.sourceIrq() == 0 ? 2 : i.sourceIrq();
            assertEquals(expectedPin, i.destPin(), "IRQ " + i.sourceIrq());
            assertEquals(i.sourceIrq() == 9 ? 0x0D : 0, i.flags(), "IRQ " + i.sourceIrq());
        }

        assertEquals(List.of(new GuestMpParser.Interrupt(3, 0, 0, 0, 0xFF, 0), new GuestMpParser.Interrupt(1, 0, 0, 0, 0xFF, 1)),
                c.localInterrupts());
    }

    @Test
    void apicIdsAboveTheByteAreLeftOut() {
        // 300 single-core packages: APIC IDs 0..299; the MP table can name 0..254.
        GuestMpParser.Config c = place(PlatformDescription.pc(new Topology(4, 300, 300, 1, 1, 1), MEMORY), 0x90000);
        assertEquals(255, c.processors().size());
        assertEquals(254, c.processors().get(254).apicId());
        assertFalse(c.processors().get(4).enabled());
    }

    @Test
    void floatingPointerBytesDoNotDependOnWhereTheyGo() {
        assertArrayEquals(MpTable.build(twoOfFour(), CONFIG).floatingPointer(),
                MpTable.build(twoOfFour(), CONFIG).floatingPointer());
        assertEquals(0x9E000, Le.u32(MpTable.build(twoOfFour(), 0x9E000).floatingPointer(), 4));
    }

    /** The configuration table holds no address of its own: built once, it goes wherever its length lets it. */
    @Test
    void aConfigurationTableBuiltOnceIsTheOneBuiltAtItsAddress() {
        byte[] once = MpTable.configTable(twoOfFour());
        for (long at : new long[] {CONFIG, 0x9E000, 0x9E010}) {
            MpTable.Image image = MpTable.image(once, at);
            assertArrayEquals(MpTable.build(twoOfFour(), at).configTable(), image.configTable());
            assertArrayEquals(MpTable.build(twoOfFour(), at).floatingPointer(), image.floatingPointer());
            assertEquals(MpTable.configTableLength(twoOfFour()), image.configTable().length);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MpTable.image(once, 0xFFFF_FF00L));
        assertTrue(e.getMessage().contains("below 4 GiB"), e.getMessage());
    }

    @Test
    void configurationTableMustLieBelow4g() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MpTable.build(twoOfFour(), 0xFFFF_FF00L));
        assertTrue(e.getMessage().contains("below 4 GiB"), e.getMessage());
    }
}
