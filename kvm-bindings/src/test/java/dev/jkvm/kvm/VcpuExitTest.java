package dev.jkvm.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmRun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exit view reads and writes what KVM would: each exit kind is written into a segment laid
 * out as {@code struct kvm_run} through the generated {@code MemoryLayout}'s member paths (not the
 * offset constants the view itself uses), then read back through the view.
 */
class VcpuExitTest {

    /** KVM puts port I/O data on the page after {@code kvm_run} ({@code KVM_PIO_PAGE_OFFSET} 1). */
    private static final long PIO_PAGE = 4096;

    private Arena arena;
    private MemorySegment run;
    private VcpuExit exit;

    @BeforeEach
    void mapping() {
        arena = Arena.ofConfined();
        run = arena.allocate(2 * PIO_PAGE, 8);
        exit = new VcpuExit(run);
    }

    @AfterEach
    void unmap() {
        arena.close();
    }

    /** A member of the anonymous exit union (the tenth member of kvm_run), by its C names. */
    private static VarHandle union(String... path) {
        PathElement[] p = new PathElement[path.length + 1];
        p[0] = groupElement(9);
        for (int i = 0; i < path.length; i++) {
            p[i + 1] = groupElement(path[i]);
        }
        return KvmRun.LAYOUT.varHandle(p);
    }

    private static long unionOffset(String... path) {
        PathElement[] p = new PathElement[path.length + 1];
        p[0] = groupElement(9);
        for (int i = 0; i < path.length; i++) {
            p[i + 1] = groupElement(path[i]);
        }
        return KvmRun.LAYOUT.byteOffset(p);
    }

    private void exitReason(int reason) {
        KvmRun.LAYOUT.varHandle(groupElement("exit_reason")).set(run, 0L, reason);
    }

    @Test
    void reasonIsTheExitReasonField() {
        exitReason(KvmConstants.KVM_EXIT_HLT);
        assertEquals(KvmConstants.KVM_EXIT_HLT, exit.reason());
        exitReason(KvmConstants.KVM_EXIT_SYSTEM_EVENT);
        assertEquals(KvmConstants.KVM_EXIT_SYSTEM_EVENT, exit.reason());
    }

    @Test
    void subViewsAreTheSameObjectsOnEveryExit() {
        assertSame(exit.io(), exit.io());
        assertSame(exit.mmio(), exit.mmio());
        assertSame(exit.systemEvent(), exit.systemEvent());
        assertSame(exit.debug(), exit.debug());
        assertSame(exit.internal(), exit.internal());
        assertSame(exit.failEntry(), exit.failEntry());
    }

    @Test
    void portOutOfOneByte() {
        exitReason(KvmConstants.KVM_EXIT_IO);
        union("io", "direction").set(run, 0L, (byte) KvmConstants.KVM_EXIT_IO_OUT);
        union("io", "size").set(run, 0L, (byte) 1);
        union("io", "port").set(run, 0L, (short) 0xf4f4); // above 0x7fff: unsigned
        union("io", "count").set(run, 0L, 1);
        union("io", "data_offset").set(run, 0L, PIO_PAGE);
        run.set(JAVA_BYTE, PIO_PAGE, (byte) 0x99);

        VcpuExit.Io io = exit.io();
        assertTrue(io.out());
        assertEquals(1, io.size());
        assertEquals(0xf4f4, io.port());
        assertEquals(1, io.count());
        assertEquals(0x99, io.data(0));
    }

    @Test
    void portInOfAWordIsWrittenWhereDataOffsetPoints() {
        union("io", "direction").set(run, 0L, (byte) KvmConstants.KVM_EXIT_IO_IN);
        union("io", "size").set(run, 0L, (byte) 2);
        union("io", "port").set(run, 0L, (short) 0x71);
        union("io", "count").set(run, 0L, 1);
        union("io", "data_offset").set(run, 0L, PIO_PAGE + 1); // unaligned on purpose

        VcpuExit.Io io = exit.io();
        assertFalse(io.out());
        io.setData(0, 0xabcd1234); // only the low two bytes belong to a 16-bit IN
        assertEquals(0x1234, Short.toUnsignedInt(run.get(JAVA_SHORT.withByteAlignment(1), PIO_PAGE + 1)));
        assertEquals(0, run.get(JAVA_BYTE, PIO_PAGE + 3));
        assertEquals(0x1234, io.data(0));
    }

    @Test
    void stringIoWalksCountItemsOfSizeBytes() {
        union("io", "direction").set(run, 0L, (byte) KvmConstants.KVM_EXIT_IO_OUT);
        union("io", "size").set(run, 0L, (byte) 4);
        union("io", "port").set(run, 0L, (short) 0x3f8);
        union("io", "count").set(run, 0L, 3);
        union("io", "data_offset").set(run, 0L, PIO_PAGE);
        for (int i = 0; i < 3; i++) {
            run.set(JAVA_INT, PIO_PAGE + 4L * i, 0x1000_0000 * (i + 1) + i);
        }

        VcpuExit.Io io = exit.io();
        assertEquals(3, io.count());
        for (int i = 0; i < 3; i++) {
            assertEquals(0x1000_0000 * (i + 1) + i, io.data(i));
        }
        io.setData(2, -1);
        assertEquals(-1, run.get(JAVA_INT, PIO_PAGE + 8));
        assertEquals(0x2000_0001, io.data(1));
    }

    @Test
    void mmioWriteKeepsOnlyItsLengthOfData() {
        exitReason(KvmConstants.KVM_EXIT_MMIO);
        union("mmio", "phys_addr").set(run, 0L, 0xfee0_0300L);
        union("mmio", "len").set(run, 0L, 3); // odd sizes happen: a hostile guest's 3-byte mov
        union("mmio", "is_write").set(run, 0L, (byte) 1);
        long data = unionOffset("mmio", "data");
        for (int i = 0; i < 8; i++) {
            run.set(JAVA_BYTE, data + i, (byte) (0x11 * (i + 1)));
        }

        VcpuExit.Mmio m = exit.mmio();
        assertEquals(0xfee0_0300L, m.address());
        assertEquals(3, m.length());
        assertTrue(m.write());
        assertEquals(0x33_22_11L, m.data());
    }

    @Test
    void mmioReadOfEightBytesAndOfOne() {
        union("mmio", "phys_addr").set(run, 0L, 0xffff_ffff_e000_0000L);
        union("mmio", "len").set(run, 0L, 8);
        union("mmio", "is_write").set(run, 0L, (byte) 0);
        VcpuExit.Mmio m = exit.mmio();
        assertFalse(m.write());
        assertEquals(0xffff_ffff_e000_0000L, m.address());
        m.setData(0x0102_0304_0506_0708L);
        long data = unionOffset("mmio", "data");
        assertEquals(0x08, run.get(JAVA_BYTE, data)); // little-endian, as the guest reads it
        assertEquals(0x01, run.get(JAVA_BYTE, data + 7));
        assertEquals(0x0102_0304_0506_0708L, m.data());

        union("mmio", "len").set(run, 0L, 1);
        m.setData(-1L); // the bytes a one-byte read does not return are cleared
        assertEquals((byte) 0xff, run.get(JAVA_BYTE, data));
        for (int i = 1; i < 8; i++) {
            assertEquals(0, run.get(JAVA_BYTE, data + i), "byte " + i);
        }
        assertEquals(0xffL, m.data());
    }

    @Test
    void systemEventTypeAndData() {
        exitReason(KvmConstants.KVM_EXIT_SYSTEM_EVENT);
        union("system_event", "type").set(run, 0L, KvmConstants.KVM_SYSTEM_EVENT_RESET);
        union("system_event", "ndata").set(run, 0L, 2);
        // data shares an anonymous union with the older flags: the third member of system_event.
        long data = KvmRun.LAYOUT.byteOffset(groupElement(9), groupElement("system_event"), groupElement(2),
                groupElement("data"));
        run.set(JAVA_LONG, data, 7);
        run.set(JAVA_LONG, data + 8, 9);

        VcpuExit.SystemEvent e = exit.systemEvent();
        assertEquals(KvmConstants.KVM_SYSTEM_EVENT_RESET, e.type());
        assertEquals(2, e.ndata());
        assertEquals(7, e.data(0));
        assertEquals(9, e.data(1));
        assertThrows(IndexOutOfBoundsException.class, () -> e.data(16));
        assertThrows(IndexOutOfBoundsException.class, () -> e.data(-1));
    }

    @Test
    void debugExitArchFields() {
        exitReason(KvmConstants.KVM_EXIT_DEBUG);
        union("debug", "arch", "exception").set(run, 0L, 3);
        union("debug", "arch", "pc").set(run, 0L, 0xffff_ffff_8100_0000L);
        union("debug", "arch", "dr6").set(run, 0L, 0xffff_4ff1L);
        union("debug", "arch", "dr7").set(run, 0L, 0x402L);

        VcpuExit.Debug d = exit.debug();
        assertEquals(3, d.exception());
        assertEquals(0xffff_ffff_8100_0000L, d.pc());
        assertEquals(0xffff_4ff1L, d.dr6());
        assertEquals(0x402L, d.dr7());
    }

    @Test
    void internalErrorSuberrorAndData() {
        exitReason(KvmConstants.KVM_EXIT_INTERNAL_ERROR);
        union("internal", "suberror").set(run, 0L, KvmConstants.KVM_INTERNAL_ERROR_EMULATION);
        union("internal", "ndata").set(run, 0L, 16);
        long data = unionOffset("internal", "data");
        for (int i = 0; i < 16; i++) {
            run.set(JAVA_LONG, data + 8L * i, 0x100L + i);
        }

        VcpuExit.Internal e = exit.internal();
        assertEquals(KvmConstants.KVM_INTERNAL_ERROR_EMULATION, e.suberror());
        assertEquals(16, e.ndata());
        assertEquals(0x100L, e.data(0));
        assertEquals(0x10fL, e.data(15));
        assertThrows(IndexOutOfBoundsException.class, () -> e.data(16));
    }

    @Test
    void failEntryReasonAndHostCpu() {
        exitReason(KvmConstants.KVM_EXIT_FAIL_ENTRY);
        union("fail_entry", "hardware_entry_failure_reason").set(run, 0L, 0x8000_0021L);
        union("fail_entry", "cpu").set(run, 0L, 1);

        assertEquals(0x8000_0021L, exit.failEntry().hardwareReason());
        assertEquals(1, exit.failEntry().cpu());
    }

    @Test
    void aSegmentSmallerThanKvmRunIsRefused() {
        MemorySegment small = arena.allocate(KvmRun.SIZEOF - 1, 8);
        assertThrows(IllegalArgumentException.class, () -> new VcpuExit(small));
    }
}
