package dev.jkvm.vmm.vcpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.Libc;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.host.ThreadTimes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A vCPU's platform thread, parked for the next vCPU once its own ends: it takes the next one's
 * name (also the kernel's), its host CPUs and interrupt state as a new thread would have them, its
 * CPU times from zero, and it ends once parked for {@link VcpuThreadPool#IDLE}. No KVM needed.
 */
@Isolated // which parked thread the next vCPU gets depends on what else starts vCPUs meanwhile
class VcpuThreadPoolTest {

    /** Generous: for "it does end", never a speed limit. */
    private static final long ENDS_WITHIN_MILLIS = VcpuThreadPool.IDLE.toMillis() + 60_000;

    private static String comm() {
        try {
            return Files.readString(Path.of("/proc/thread-self/comm")).strip();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Runs {@code body} as vCPU {@code name}'s thread (entered, body, exited, as Vcpu.run does) and waits for its end. */
    private static VcpuThread runVcpu(String name, BitSet affinity, Runnable body) throws InterruptedException {
        VcpuThread t = new VcpuThread(name, affinity);
        t.start(() -> {
            try {
                t.pin();
                t.entered();
                body.run();
            } finally {
                t.exited(() -> { });
            }
        });
        assertTrue(t.join(ENDS_WITHIN_MILLIS), name + " did not end");
        return t;
    }

    /** Waits until {@code thread} is parked in the pool (it then waits, timed, for the next vCPU). */
    private static void awaitParked(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + ENDS_WITHIN_MILLIS * 1_000_000;
        while (thread.getState() != Thread.State.TIMED_WAITING || !thread.getName().equals(VcpuThreadPool.IDLE_NAME)) {
            assertTrue(thread.isAlive() && System.nanoTime() < deadline, "the thread was not parked: " + thread.getState());
            Thread.sleep(1);
        }
    }

    @Test
    void aParkedThreadRunsTheNextVcpuUnderItsNameAndEndsWhenIdleLongEnough() throws Exception {
        AtomicReference<Thread> first = new AtomicReference<>();
        AtomicReference<String> firstComm = new AtomicReference<>();
        runVcpu("CPU 0/KVM", null, () -> {
            first.set(Thread.currentThread());
            firstComm.set(comm());
            Thread.currentThread().interrupt(); // stays with this vCPU
        });
        assertEquals("CPU 0/KVM", firstComm.get());
        awaitParked(first.get());
        assertEquals(VcpuThreadPool.IDLE_NAME, first.get().getName());

        AtomicReference<Thread> second = new AtomicReference<>();
        AtomicReference<String> secondName = new AtomicReference<>();
        AtomicReference<String> secondComm = new AtomicReference<>();
        AtomicBoolean interrupted = new AtomicBoolean(true);
        runVcpu("CPU 3/KVM", null, () -> {
            second.set(Thread.currentThread());
            secondName.set(Thread.currentThread().getName());
            secondComm.set(comm());
            interrupted.set(Thread.currentThread().isInterrupted());
        });
        assertSame(first.get(), second.get(), "the parked thread ran the next vCPU");
        assertEquals("CPU 3/KVM", secondName.get());
        assertEquals("CPU 3/KVM", secondComm.get(), "the kernel's name too (ps -L, top -H)");
        assertFalse(interrupted.get(), "the interrupt of the vCPU before stayed with it");

        first.get().join(ENDS_WITHIN_MILLIS);
        assertFalse(first.get().isAlive(), "an idle thread ends");
    }

    @Test
    void theNextVcpuOnAPinnedThreadHasTheCpusANewThreadHas() throws Exception {
        BitSet allowed = HostCpus.allowed();
        BitSet last = new BitSet();
        last.set(allowed.length() - 1);
        AtomicReference<Thread> first = new AtomicReference<>();
        AtomicReference<BitSet> pinned = new AtomicReference<>();
        AtomicReference<BitSet> before = new AtomicReference<>();
        AtomicReference<BitSet> unpinned = new AtomicReference<>();
        AtomicReference<Thread> second = new AtomicReference<>();
        AtomicReference<Thread> zeroth = new AtomicReference<>();
        // a new thread's CPUs, as the pinned vCPU found them
        runVcpu("CPU 0/KVM", null, () -> {
            zeroth.set(Thread.currentThread());
            before.set(Libc.schedGetaffinity(0));
        });
        awaitParked(zeroth.get()); // the pinned vCPU then runs on it: it is the one parked last afterwards
        runVcpu("CPU 0/KVM", last, () -> {
            first.set(Thread.currentThread());
            pinned.set(Libc.schedGetaffinity(0));
        });
        awaitParked(first.get());
        runVcpu("CPU 1/KVM", null, () -> {
            second.set(Thread.currentThread());
            unpinned.set(Libc.schedGetaffinity(0));
        });
        assertEquals(last, pinned.get());
        assertSame(first.get(), second.get());
        assertEquals(before.get(), unpinned.get());

        // pinned by hand while it ran (taskset -p): the next vCPU starts unpinned all the same
        awaitParked(second.get());
        AtomicReference<Thread> third = new AtomicReference<>();
        runVcpu("CPU 0/KVM", null, () -> {
            third.set(Thread.currentThread());
            Libc.schedSetaffinity(0, last);
        });
        awaitParked(third.get());
        AtomicReference<Thread> fourth = new AtomicReference<>();
        runVcpu("CPU 0/KVM", null, () -> {
            fourth.set(Thread.currentThread());
            unpinned.set(Libc.schedGetaffinity(0));
        });
        assertSame(third.get(), fourth.get());
        assertEquals(before.get(), unpinned.get());
    }

    @Test
    void theNextVcpuOnAThreadCountsItsCpuTimeFromZero() throws Exception {
        long spent = 200_000_000L;
        AtomicReference<Thread> first = new AtomicReference<>();
        VcpuThread busy = runVcpu("CPU 0/KVM", null, () -> {
            first.set(Thread.currentThread());
            int tid = Libc.gettid();
            long start = total(ThreadTimes.of(tid)); // a thread run before has times of its own
            long x = 0;
            // burn CPU until the host has accounted 200 ms more to this thread (its clock ticks are coarse)
            while (total(ThreadTimes.of(tid)) - start < spent) {
                for (int i = 0; i < 1_000_000; i++) {
                    x += i ^ x;
                }
            }
            assertTrue(x != 1);
        });
        awaitParked(first.get());
        AtomicReference<Thread> second = new AtomicReference<>();
        VcpuThread idle = runVcpu("CPU 0/KVM", null, () -> second.set(Thread.currentThread()));
        assertSame(first.get(), second.get());
        assertNotNull(busy.times());
        assertNotNull(idle.times());
        assertTrue(total(busy.times()) >= spent, "busy: " + busy.times());
        assertTrue(total(idle.times()) < spent / 2, "the idle vCPU was charged its thread's earlier time: " + idle.times());
    }

    private static long total(ThreadTimes t) {
        return t.userNanos() + t.systemNanos();
    }
}
