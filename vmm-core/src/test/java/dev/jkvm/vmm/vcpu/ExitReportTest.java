package dev.jkvm.vmm.vcpu;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.DescriptorTable;
import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.Segment;
import dev.jkvm.kvm.Sregs;
import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmRun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The crash report, from a kvm_run filled in by the test: no KVM needed. */
class ExitReportTest {

    private static final Regs REGS = new Regs(0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7000, 0x8888,
            8, 9, 10, 11, 12, 13, 14, 15, 0x00100abcL, 0x46);

    private static Segment code64() {
        return new Segment(0, 0xffffffff, 0x10, 11, true, 0, false, true, true, true, false, false);
    }

    private static Segment data() {
        return new Segment(0, 0xffffffff, 0x18, 3, true, 0, true, true, false, true, false, false);
    }

    private static final Sregs LONG_MODE = new Sregs(code64(), data(), data(), data(), data(), data(), data(), data(),
            new DescriptorTable(0x1000, 0x27), new DescriptorTable(0x2000, 0xfff),
            0x80000011L, 0, 0x9000, 0x20, 0, 0x500, 0xfee00900L);

    @Test
    void internalErrorNamesTheSuberrorItsDataAndTheCode() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment run = arena.allocate(KvmRun.SIZEOF, 8);
            run.set(JAVA_INT, KvmRun.EXIT_REASON, KvmConstants.KVM_EXIT_INTERNAL_ERROR);
            run.set(JAVA_INT, KvmRun.INTERNAL_SUBERROR, KvmConstants.KVM_INTERNAL_ERROR_EMULATION);
            run.set(JAVA_INT, KvmRun.INTERNAL_NDATA, 2);
            run.set(JAVA_LONG, KvmRun.INTERNAL_DATA, 0xdeadbeefL);
            run.set(JAVA_LONG, KvmRun.INTERNAL_DATA + 8, 0x42L);
            byte[] code = {(byte) 0xf0, 0x48, 0x0f, (byte) 0xc7, 0x0e}; // lock cmpxchg16b (%rsi)
            ExitReport r = ExitReport.of(1, KvmConstants.KVM_EXIT_INTERNAL_ERROR, new VcpuExit(run), REGS, LONG_MODE, 0x100abc, code);

            assertEquals("KVM internal error (KVM_EXIT_INTERNAL_ERROR, suberror 1): emulation failure:"
                    + " KVM's instruction emulator could not run the instruction", r.headline());
            String text = r.format();
            assertTrue(text.startsWith("jkvm: CPU 1: KVM internal error"), text);
            assertTrue(text.contains("internal error data: 00000000deadbeef 0000000000000042"), text);
            assertTrue(text.contains("RIP=0000000000100abc CS=0010 (base 0) 64-bit long mode, paging"), text);
            assertTrue(text.contains("RAX=0000000000001111 RBX=0000000000002222"), text);
            assertTrue(text.contains("R12=000000000000000c"), text);
            assertTrue(text.contains("CR3=0000000000009000"), text);
            assertTrue(text.contains("code at 100abc: f0 48 0f c7 0e"), text);
        }
    }

    @Test
    void failEntryNamesTheHardwareReasonAndCpu() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment run = arena.allocate(KvmRun.SIZEOF, 8);
            run.set(JAVA_INT, KvmRun.EXIT_REASON, KvmConstants.KVM_EXIT_FAIL_ENTRY);
            run.set(JAVA_LONG, KvmRun.FAIL_ENTRY_HARDWARE_ENTRY_FAILURE_REASON, 0x80000021L);
            run.set(JAVA_INT, KvmRun.FAIL_ENTRY_CPU, 3);
            Sregs real = new Sregs(new Segment(0xffff0000L, 0xffff, 0xf000, 11, true, 0, false, true, false, false, false, false),
                    data(), data(), data(), data(), data(), data(), data(),
                    new DescriptorTable(0, 0xffff), new DescriptorTable(0, 0xffff), 0x60000010L, 0, 0, 0, 0, 0, 0);
            ExitReport r = ExitReport.of(0, KvmConstants.KVM_EXIT_FAIL_ENTRY, new VcpuExit(run), REGS.withRip(0xfff0), real, 0xfffffff0L,
                    new byte[] {(byte) 0xea, 0, 0, 0, (byte) 0xf0});
            assertEquals("VM entry failed (KVM_EXIT_FAIL_ENTRY): hardware entry failure reason 0x80000021 on host CPU 3",
                    r.headline());
            assertTrue(r.format().contains("RIP=000000000000fff0 CS=f000 (base ffff0000) real mode"), r.format());
            assertTrue(r.format().contains("code at fffffff0: ea 00 00 00 f0"), r.format());
        }
    }

    @Test
    void unmappedRipIsSaidSo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment run = arena.allocate(KvmRun.SIZEOF, 8);
            ExitReport r = ExitReport.of(0, KvmConstants.KVM_EXIT_SHUTDOWN, new VcpuExit(run), REGS, LONG_MODE, -1, new byte[0]);
            assertTrue(r.headline().contains("KVM_EXIT_SHUTDOWN"));
            assertTrue(r.details().contains("code: RIP is not mapped to guest memory"), r.details().toString());
        }
    }
}
