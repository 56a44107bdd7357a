package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.memory.GuestMemoryException;
import dev.jkvm.vmm.memory.MemoryMap;
import dev.jkvm.vmm.memory.Region;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Machine.close hands the kernel's teardown (the VM's and vCPUs' descriptors, the guest memory's mappings) to one
 * thread: counted by the VM descriptors the process holds ({@code anon_inode:kvm-vm}), never more than
 * {@link VmTeardown#MAX_PENDING} closed machines wait, however fast they are closed; once released none of their
 * descriptors or mappings is left; and a machine never sees the memory of the one closed before it.
 */
@RequiresKvm
@Isolated // counts the process's VM descriptors and mappings
class MachineTeardownTest {

    private static final int MACHINES = 60;
    /** Where each machine's API writes its marker: conventional RAM the tiny ROM never touches. */
    private static final long MARK_AT = 0x50000;

    private static MachineConfig tiny() {
        return MachineConfig.builder().firmware(BiosRom.bundled("debug-exit")).serial(SerialBackend.none())
                .memory(2 * MemoryMap.MIB).irqchip(false).build();
    }

    private static byte[] marker(int k) {
        return String.format("jkvm machine %04d", k).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void closingInATightLoopKeepsAtMostTwoVmsPendingAndLeavesNothingOnceReleased() throws Exception {
        Machine.create(tiny()).close(); // the shared /dev/kvm handle, the teardown thread, the JVM's own descriptors
        VcpuThreadsTest.awaitReleased();
        VcpuThreadsTest.awaitNoParkedVcpuThreads(); // a parked vCPU thread keeps its stat file open
        var fds = VcpuThreadsTest.openFdTargets();
        long vmsBefore = vmDescriptors();
        Set<String> ramMappings = new TreeSet<>();
        for (int k = 0; k < MACHINES; k++) {
            Machine m = Machine.create(tiny());
            try {
                if (k > 0) {
                    assertMarkerNowhere(m, marker(k - 1));
                }
                m.writePhysical(MARK_AT, marker(k)); // as the guest would leave it
                ramMappings.add(mappingOf(m.memory().slice(MARK_AT, 1).address()));
                assertEquals(85, m.run(Duration.ofSeconds(60)).exitStatus());
            } finally {
                m.close();
            }
            assertThrows(GuestMemoryException.class, () -> m.readPhysical(MARK_AT, 16), "the API lets go at once");
            long pending = vmDescriptors() - vmsBefore;
            assertTrue(pending <= VmTeardown.MAX_PENDING, pending + " closed VMs still open after machine " + k);
        }
        VcpuThreadsTest.awaitReleased();
        assertEquals(vmsBefore, vmDescriptors());
        VcpuThreadsTest.awaitNoParkedVcpuThreads();
        assertEquals(Map.of(), VcpuThreadsTest.newFds(fds));
        List<String> left = new ArrayList<>(mappingRanges());
        left.retainAll(ramMappings);
        assertEquals(List.of(), left, "guest RAM still mapped after its release");
    }

    @Test
    void aCloseThatFindsTheTeardownBusyReleasesItsOwnMachine() {
        Machine.create(tiny()).close();
        VcpuThreadsTest.awaitReleased();
        long vmsBefore = vmDescriptors();
        List<Machine> open = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            open.add(Machine.create(tiny()));
        }
        assertEquals(vmsBefore + 4, vmDescriptors());
        CountDownLatch gate = new CountDownLatch(1);
        VmTeardown.submit(List.of(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }), line -> { }); // holds the thread: one slot taken
        try {
            open.get(0).close(); // the second slot: queued, its VM still open
            assertEquals(vmsBefore + 4, vmDescriptors());
            for (int i = 1; i < 4; i++) {
                open.get(i).close(); // both slots taken: released before close returns
                assertEquals(vmsBefore + 4 - i, vmDescriptors(), "after closing machine " + i);
            }
        } finally {
            gate.countDown();
            open.forEach(Machine::close);
        }
        VcpuThreadsTest.awaitReleased();
        assertEquals(vmsBefore, vmDescriptors());
    }

    /** {@code marker} appears nowhere in {@code m}'s RAM. */
    private static void assertMarkerNowhere(Machine m, byte[] marker) {
        String needle = new String(marker, StandardCharsets.ISO_8859_1);
        for (Region r : m.memory().map().regions(Region.Kind.RAM)) {
            String ram = new String(m.readPhysical(r.base(), (int) r.size()), StandardCharsets.ISO_8859_1);
            assertEquals(-1, ram.indexOf(needle), "the previous machine's marker in " + r);
        }
    }

    /** The VM descriptors the process holds. */
    private static long vmDescriptors() {
        try {
            return VcpuThreadsTest.openFdTargets().values().stream().filter("anon_inode:kvm-vm"::equals).count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The {@code start-end} of the mapping that holds host address {@code address}. */
    private static String mappingOf(long address) throws IOException {
        for (String range : mappingRanges()) {
            String[] se = range.split("-");
            if (Long.parseUnsignedLong(se[0], 16) <= address && address < Long.parseUnsignedLong(se[1], 16)) {
                return range;
            }
        }
        throw new AssertionError("no mapping holds 0x" + Long.toHexString(address));
    }

    private static List<String> mappingRanges() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().map(l -> l.substring(0, l.indexOf(' '))).toList();
    }
}
