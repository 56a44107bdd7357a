package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Holding and releasing vCPU threads. Each "vCPU" counts an iteration and then sits like a
 * halted vCPU in KVM_RUN until kicked, so it is "in the guest" between iterations and every
 * wait here ends by an event (no spinning, no deadline).
 */
class AllStopGateTest {

    private static final class Loops implements AutoCloseable {
        final AtomicLongArray iterations = new AtomicLongArray(2);
        final ConcurrentLinkedQueue<Integer> kicks = new ConcurrentLinkedQueue<>();
        final boolean[] kicked = new boolean[2];
        final AllStopGate gate;
        final Thread[] threads = new Thread[2];
        volatile boolean stop;

        Loops(boolean startPaused) {
            gate = new AllStopGate(2, this::kick, startPaused);
            for (int i = 0; i < 2; i++) {
                int cpu = i;
                threads[i] = Thread.ofPlatform().daemon().start(() -> {
                    while (!stop) {
                        gate.checkpoint(cpu);
                        iterations.incrementAndGet(cpu);
                        awaitKick(cpu);
                    }
                    gate.finished(cpu);
                });
            }
        }

        /** Waits (short sleeps, no deadline) until {@code cpu} has counted {@code n} iterations. */
        void awaitIterations(int cpu, long n) throws InterruptedException {
            while (iterations.get(cpu) < n) {
                Thread.sleep(1);
            }
        }

        void kick(int cpu) {
            kicks.add(cpu);
            synchronized (kicked) {
                kicked[cpu] = true;
                kicked.notifyAll();
            }
        }

        void awaitKick(int cpu) {
            synchronized (kicked) {
                while (!kicked[cpu] && !stop) {
                    try {
                        kicked.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                kicked[cpu] = false;
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            gate.shutdown();
            synchronized (kicked) {
                kicked.notifyAll();
            }
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    private static BitSet cpus(int... set) {
        BitSet b = new BitSet();
        for (int i : set) {
            b.set(i);
        }
        return b;
    }

    @Test
    void pauseAllKicksAndHoldsEveryVcpu() throws Exception {
        try (Loops l = new Loops(false)) {
            l.awaitIterations(0, 1);
            l.awaitIterations(1, 1); // both now sit "in the guest"
            l.gate.pauseAll();
            assertTrue(l.kicks.contains(0) && l.kicks.contains(1), "both had to be kicked out: " + l.kicks);
            assertTrue(l.gate.isOutside(0));
            assertTrue(l.gate.isOutside(1));
            long held0 = l.iterations.get(0);
            long held1 = l.iterations.get(1);
            l.kick(0);
            l.kick(1);
            l.gate.pauseAll(); // idempotent while held; waits for nothing
            assertEquals(held0, l.iterations.get(0), "a held vCPU does not run, kicked or not");
            assertEquals(held1, l.iterations.get(1));
            l.gate.resume(cpus(0, 1));
            l.awaitIterations(0, held0 + 1); // ends only because the resumed vCPUs run again
            l.awaitIterations(1, held1 + 1);
            l.gate.pauseAll();
            assertTrue(l.gate.isOutside(0) && l.gate.isOutside(1));
        }
    }

    @Test
    void startPausedHoldsBeforeTheFirstIteration() throws Exception {
        try (Loops l = new Loops(true)) {
            l.gate.pauseAll();
            assertEquals(0, l.iterations.get(0));
            assertEquals(0, l.iterations.get(1));
            assertTrue(l.kicks.isEmpty(), "nobody was in the guest to kick");
            l.gate.resume(cpus(0, 1));
            l.awaitIterations(0, 1);
            l.awaitIterations(1, 1);
        }
    }

    @Test
    void resumeOnlyASubset() throws Exception {
        try (Loops l = new Loops(false)) {
            l.awaitIterations(1, 1);
            l.gate.pauseAll();
            long held1 = l.iterations.get(1);
            long ran0 = l.iterations.get(0);
            l.gate.resume(cpus(0));
            l.kick(1); // even a stray kick does not let a vCPU that was not resumed run
            l.awaitIterations(0, ran0 + 1);
            l.gate.pauseAll();
            assertEquals(held1, l.iterations.get(1));
            l.gate.resume(cpus(1));
            l.awaitIterations(1, held1 + 1);
        }
    }

    @Test
    void requestPauseFromAVcpuKicksTheOthersOnly() throws Exception {
        try (Loops l = new Loops(false)) {
            l.awaitIterations(0, 1);
            l.awaitIterations(1, 1);
            l.gate.requestPause(0);
            assertEquals(java.util.List.of(1), java.util.List.copyOf(l.kicks), "only the other vCPU is kicked");
            // The asking vCPU stops at its next checkpoint; cpu 1 got its kick and stops at its own.
            l.kick(0);
            l.gate.pauseAll();
            assertTrue(l.gate.isOutside(0) && l.gate.isOutside(1));
        }
    }

    @Test
    void shutdownReleasesEverythingForGood() throws Exception {
        try (Loops l = new Loops(true)) {
            l.gate.shutdown();
            l.awaitIterations(0, 1); // held by -S before, running now (and sitting in the guest)
            l.gate.pauseAll();       // returns at once, kicking and holding nobody
            assertTrue(l.kicks.isEmpty());
            assertFalse(l.gate.isOutside(0));
            long now = l.iterations.get(0);
            l.kick(0);
            l.awaitIterations(0, now + 1);
        }
    }
}
