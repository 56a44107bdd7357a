package dev.jkvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.abi.Errno;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.testing.RequiresKvm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
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

    /**
     * A close while another thread reads waits for that read (both hold the object's monitor), and
     * a read after it fails as a closed descriptor would: the close once failed with "Session is
     * acquired by 1 clients" when it freed the memory under a reader's pread.
     */
    @Test
    void statsCloseWaitsForAReaderAndLaterReadsFailCleanly() throws Exception {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(); VcpuFd cpu = vm.createVcpu(0)) {
            KvmStats stats = cpu.stats();
            CountDownLatch reading = new CountDownLatch(1);
            List<Throwable> readerFailures = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                for (int i = 0; ; i++) {
                    synchronized (stats) {
                        try {
                            stats.refresh();
                            stats.value("exits");
                        } catch (KvmException closed) {
                            assertEquals(9, closed.errno(), closed.getMessage()); // EBADF
                            return;
                        } catch (Throwable t) {
                            readerFailures.add(t);
                            return;
                        }
                    }
                    if (i == 100) {
                        reading.countDown();
                    }
                }
            });
            reading.await();
            stats.close(); // threw IllegalStateException when it raced with the reader's pread
            stats.close(); // once only
            reader.join();
            assertEquals(List.of(), readerFailures);
            assertEquals(9, assertThrows(KvmException.class, stats::refresh).errno());
        }
    }

    /**
     * A vCPU keeps the leaves it was given, in order; what KVM holds reads back entry by entry. An
     * Intel host with AMX drops leaves 0x1D/0x1E (tile information) from the table it holds: this
     * process never asked for AMX state (arch_prctl ARCH_REQ_XCOMP_GUEST_PERM), so only those may go.
     */
    @Test
    void aCpuidTableSetOnAVcpuReadsBack() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(); VcpuFd cpu = vm.createVcpu(0)) {
            List<CpuidEntry> supported = kvm.supportedCpuid();
            cpu.setCpuid(supported);
            List<CpuidEntry> held = cpu.cpuid();
            int h = 0;
            for (CpuidEntry want : supported) {
                if (h < held.size() && held.get(h).function() == want.function() && held.get(h).index() == want.index()) {
                    h++;
                } else {
                    assertTrue(want.function() == 0x1d || want.function() == 0x1e,
                            "leaf " + Integer.toHexString(want.function()) + "." + want.index() + " given, not held");
                }
            }
            assertEquals(held.size(), h, "entries held that were never given, or out of order");
            CpuidEntry vendor = held.stream().filter(e -> e.function() == 0).findFirst().orElseThrow();
            assertEquals(supported.getFirst().ebx(), vendor.ebx(), "the vendor string");
        }
    }

    /** Callers at once share one answer: the table is asked of KVM once, whoever comes first. */
    @Test
    void concurrentCallersGetTheOneSupportedTable() throws Exception {
        try (Kvm kvm = Kvm.open()) {
            int n = 4;
            CountDownLatch go = new CountDownLatch(1);
            List<List<CpuidEntry>> answers = new CopyOnWriteArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    answers.add(kvm.supportedCpuid());
                }));
            }
            go.countDown();
            for (Thread t : threads) {
                t.join(60_000);
            }
            assertEquals(n, answers.size());
            for (List<CpuidEntry> a : answers) {
                assertSame(answers.getFirst(), a);
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
