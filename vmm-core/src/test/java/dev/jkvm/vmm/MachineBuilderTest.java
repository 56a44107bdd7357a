package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.testing.RequiresKvm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A machine whose build fails at any step leaves no descriptor open: what the builder opened
 * (memory, serial files, devices, the VM and its vCPUs) is closed in reverse.
 */
@RequiresKvm
@Isolated // counts descriptors
class MachineBuilderTest {

    private static final int EIO = 5;

    private static MachineConfig config(Path dir) {
        return MachineConfig.builder().firmware(BiosRom.bundled("spin")).cpus(2)
                .serial(SerialBackend.file(dir.resolve("com1.txt"))).build();
    }

    @Test
    void aFailedCpuidReadbackClosesTheVmAndItsVcpus(@TempDir Path dir) throws Exception {
        Machine.create(config(dir)).close(); // the shared /dev/kvm handle and the JVM's own descriptors first
        VcpuThreadsTest.awaitReleased(); // a descriptor number the teardown frees and reuses would read as new
        var fds = VcpuThreadsTest.openFdTargets();
        // Right after the first power-on is made, KVM_GET_CPUID2 reads vCPU 0's table back.
        JkvmException e = assertThrows(JkvmException.class, () -> Machine.create(config(dir), phase -> {
            if (phase.contains("VM, vCPUs")) {
                throw new KvmException("KVM_GET_CPUID2", EIO);
            }
        }));
        assertEquals("KVM_GET_CPUID2: EIO (Input/output error)", e.getMessage());
        assertEquals(java.util.Map.of(), VcpuThreadsTest.newFds(fds));
    }

    @Test
    void aBuildFailingAtAnyStepLeavesNothingOpen(@TempDir Path dir) throws Exception {
        Machine.create(config(dir)).close();
        List<String> phases = new ArrayList<>();
        Machine.create(config(dir), phases::add).close();
        assertTrue(phases.size() >= 6, phases.toString());
        VcpuThreadsTest.awaitReleased();
        var fds = VcpuThreadsTest.openFdTargets();
        for (String failing : phases) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Machine.create(config(dir), phase -> {
                if (phase.equals(failing)) {
                    throw new IllegalStateException("injected after" + phase);
                }
            }));
            assertEquals("injected after" + failing, e.getMessage());
            assertEquals(java.util.Map.of(), VcpuThreadsTest.newFds(fds), "after a failure at" + failing);
        }
    }
}
