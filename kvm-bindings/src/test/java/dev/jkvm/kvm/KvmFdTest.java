package dev.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.Errno;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.testing.RequiresKvm;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The typed file-descriptor layer against the real /dev/kvm. */
@RequiresKvm
class KvmFdTest {

    @Test
    void systemVmAndVcpuDescriptorsWork() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
            assertEquals(KvmConstants.KVM_API_VERSION, kvm.apiVersion());
            assertTrue(kvm.vcpuMmapSize() >= 4096);
            assertFalse(kvm.supportedCpuid().isEmpty());
            assertTrue(kvm.supportedCpuid().stream().anyMatch(e -> e.function() == 0));
            assertTrue(kvm.msrIndexList().length > 0);
            try (VcpuFd cpu = vm.createVcpu(0); KvmStats stats = cpu.stats()) {
                assertTrue(stats.read().containsKey("exits"), stats.descriptors().toString());
                Regs regs = cpu.regs();
                cpu.setRegs(regs.withRip(0x1234));
                assertEquals(0x1234, cpu.regs().rip());
                // A second vCPU with the same id: the message names the ioctl and the errno symbol.
                KvmException e = assertThrows(KvmException.class, () -> vm.createVcpu(0));
                assertEquals(Errno.EEXIST, e.errno());
                assertEquals("KVM_CREATE_VCPU: EEXIST (File exists)", e.getMessage());
            }
        }
    }

    @Test
    void aMissingDeviceIsOneLine(@TempDir Path dir) {
        KvmUnavailableException e = assertThrows(KvmUnavailableException.class, () -> Kvm.open(dir.resolve("kvm")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void anUnopenableDeviceSaysWhy(@TempDir Path dir) {
        KvmUnavailableException e = assertThrows(KvmUnavailableException.class, () -> Kvm.open(dir));
        assertTrue(e.getMessage().startsWith("cannot open " + dir + ": EISDIR"), e.getMessage());
    }
}
