package dev.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmIrqchip;
import dev.jkvm.kvm.abi.KvmLapicState;
import dev.jkvm.kvm.abi.LibcConstants;
import dev.jkvm.kvm.testing.RequiresKvm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The snapshot ioctls: what one vCPU or VM reads back is what was set. */
@RequiresKvm
class VcpuStateIoctlsTest {

    @Test
    void vcpuStateReadsBackAsSet() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
            vm.createIrqchip();
            try (VcpuFd cpu = vm.createVcpu(0)) {
                byte[] lapic = cpu.lapic();
                assertEquals(KvmLapicState.SIZEOF, lapic.length);
                lapic[0x80] = 0x30; // TPR
                cpu.setLapic(lapic);
                assertEquals(0x30, cpu.lapic()[0x80]);

                byte[] regs = cpu.regsRaw();
                regs[0] = 0x55; // RAX's low byte
                cpu.setRegsRaw(regs);
                assertEquals(0x55, cpu.regs().rax());
                cpu.setSregsRaw(cpu.sregsRaw());
                cpu.setVcpuEvents(cpu.vcpuEvents());
                cpu.setDebugRegs(cpu.debugRegs());
                cpu.setFpu(cpu.fpu());
                if (vm.checkExtension(KvmConstants.KVM_CAP_XSAVE) > 0) {
                    cpu.setXsave(cpu.xsave());
                }
                if (vm.checkExtension(KvmConstants.KVM_CAP_XCRS) > 0) {
                    cpu.setXcrs(cpu.xcrs());
                }

                // Stock KVM moves the guest's TSC to a value the host writes; kvm_pvm keeps the
                // host's TSC (the write is accepted, the value ignored). Either way it never goes back.
                int tsc = 0x10; // IA32_TIME_STAMP_COUNTER
                long before = cpu.msrs(new int[] {tsc})[0];
                assertEquals(1, cpu.setMsrs(new int[] {tsc}, new long[] {before + (1L << 36)}));
                long after = cpu.msrs(new int[] {tsc})[0];
                assertTrue(after >= before, before + " then " + after);
                assertTrue(cpu.tscKhz() > 0);
                assertTrue(cpu.msrs(kvm.msrIndexList()).length > 0);
                assertThrows(IllegalArgumentException.class, () -> cpu.setLapic(new byte[3]));
            }
        }
    }

    @Test
    void vmStateReadsBackAsSet() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
            vm.createIrqchip();
            vm.createPit2(KvmConstants.KVM_PIT_SPEAKER_DUMMY);
            byte[] ioapic = vm.irqchip(KvmConstants.KVM_IRQCHIP_IOAPIC);
            assertEquals(KvmIrqchip.SIZEOF, ioapic.length);
            vm.setIrqchip(ioapic);
            assertArrayEquals(ioapic, vm.irqchip(KvmConstants.KVM_IRQCHIP_IOAPIC));
            byte[] pit = vm.pit2();
            vm.setPit2(pit);
            byte[] clock = vm.clock();
            vm.setClock(clock);
            assertTrue(MemorySegment.ofArray(vm.clock()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)
                    >= MemorySegment.ofArray(clock).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
    }

    @Test
    void theDirtyLogHasTheGuestsWrites() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(); Arena arena = Arena.ofConfined()) {
            // A real-mode guest at 0x1000 that writes one byte at 0x3000, then halts.
            MemorySegment ram = Libc.mmap(0x10000, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE,
                    LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS, -1, 0);
            try {
                byte[] code = {(byte) 0xc6, 0x06, 0x00, 0x30, 0x42, (byte) 0xf4}; // movb $0x42,0x3000; hlt
                MemorySegment.copy(code, 0, ram, ValueLayout.JAVA_BYTE, 0x1000, code.length);
                vm.setUserMemoryRegion(0, KvmConstants.KVM_MEM_LOG_DIRTY_PAGES, 0, ram);
                MemorySegment bitmap = arena.allocate(8, 8);
                MemorySegment request = VmFd.dirtyLogRequest(arena, 0, bitmap);
                MemorySegment capture = Libc.newErrnoCapture(arena);
                assertEquals(0, vm.dirtyLogRaw(capture, request));
                try (VcpuFd cpu = vm.createVcpu(0)) {
                    Sregs s = cpu.sregs();
                    cpu.setSregs(s.withCs(s.cs().realMode(0)));
                    cpu.setRegs(cpu.regs().withRip(0x1000));
                    assertEquals(KvmConstants.KVM_EXIT_HLT, cpu.run());
                }
                assertEquals(0, vm.dirtyLogRaw(capture, request));
                assertTrue((bitmap.get(ValueLayout.JAVA_LONG, 0) & (1L << 3)) != 0,
                        Long.toBinaryString(bitmap.get(ValueLayout.JAVA_LONG, 0)));
                assertEquals(0, vm.dirtyLogRaw(capture, request));
                assertEquals(0, bitmap.get(ValueLayout.JAVA_LONG, 0) & (1L << 3)); // read and cleared
            } finally {
                Libc.munmap(ram);
            }
        }
    }
}
