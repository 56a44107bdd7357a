package dev.jkvm.vmm.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Holding and releasing vCPU threads. The "vCPUs" are threads that count iterations and wait
 * for a kick like a halted vCPU in KVM_RUN would, so every wait here ends by an event, not a delay.
 */
class AllStopGateTest {

    /** Two looping "vCPUs"; cpu 1 sits "halted" until kicked. */
    private static final class Loops implements AutoCloseable {
        final AtomicLongArray iterations = new AtomicLongArray(2);
        final ConcurrentLinkedQueue<Integer> kicks = new ConcurrentLinkedQueue<>();
        final Object halt = new Object();
        final boolean[] kicked = new boolean[2];
        final AllStopGate gate;
        volatile boolean stop;
        final Thread[] threads = new Thread[2];

        Loops(boolean startPaused) {
            gate = new AllStopGate(2, this::kick, startPaused);
            for (int i = 0; i < 2; i++) {
                int cpu = i;
                threads[i] = Thread.ofPlatform().daemon().start(() -> {
                    while (!stop) {
                        gate.checkpoint(cpu);
                        iterations.incrementAndGet(cpu);
                        if (cpu == 1) {
                            awaitKick(cpu);
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                    gate.finished(cpu);
                });
            }
        }

        /** Waits (by short sleeps, no deadline) until {@code cpu} has run {@code n} iterations. */
        void awaitIterations(int cpu, long n) throws InterruptedException {
            while (iterations.get(cpu) < n) {
                Thread.sleep(1);
            }
        }

        void kick(int cpu) {
            kicks.add(cpu);
            synchronized (halt) {
                kicked[cpu] = true;
                halt.notifyAll();
            }
        }

        void awaitKick(int cpu) {
            synchronized (halt) {
                while (!kicked[cpu] && !stop) {
                    try {
                        halt.wait();
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
            synchronized (halt) {
                halt.notifyAll();
            }
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    private static BitSet all() {
        BitSet b = new BitSet();
        b.set(0, 2);
        return b;
    }

    @Test
    void pauseAllKicksAndHoldsEveryVcpu() throws Exception {
        try (Loops l = new Loops(false)) {
            l.awaitIterations(1, 1); // cpu 1 is now "in the guest", halted
            l.gate.pauseAll();
            assertTrue(l.gate.isOutside(0));
            assertTrue(l.gate.isOutside(1));
            assertTrue(l.kicks.contains(1), "the halted vCPU had to be kicked out");
            long before0 = l.iterations.get(0);
            long before1 = l.iterations.get(1);
            l.gate.pauseAll(); // idempotent while held
            assertEquals(before0, l.iterations.get(0), "no vCPU moves while held");
            assertEquals(before1, l.iterations.get(1));
            l.gate.resume(all());
            l.awaitIterations(0, before0 + 1); // ends only if the resumed vCPU runs again
            l.gate.pauseAll();
            assertTrue(l.gate.isOutside(0));
        }
    }

    @Test
    void startPausedHoldsBeforeTheFirstIteration() throws Exception {
        try (Loops l = new Loops(true)) {
            l.gate.pauseAll(); // returns once both threads reached their first checkpoint or never left it
            assertEquals(0, l.iterations.get(0));
            assertEquals(0, l.iterations.get(1));
            l.gate.resume(all());
            l.awaitIterations(0, 1);
            l.awaitIterations(1, 1);
            l.gate.pauseAll();
            assertTrue(l.gate.isOutside(1));
        }
    }

    @Test
    void resumeOnlyASubset() throws Exception {
        try (Loops l = new Loops(false)) {
            l.gate.pauseAll();
            long held = l.iterations.get(1);
            BitSet only0 = new BitSet();
            only0.set(0);
            long ran0 = l.iterations.get(0);
            l.gate.resume(only0);
            l.kick(1); // even a stray kick does not let a vCPU that was not resumed run
            l.awaitIterations(0, ran0 + 1);
            l.gate.pauseAll();
            assertEquals(held, l.iterations.get(1));
        }
    }

    @Test
    void shutdownReleasesEverythingForGood() throws Exception {
        try (Loops l = new Loops(true)) {
            l.gate.shutdown();
            l.awaitIterations(0, 1); // the vCPU held by -S runs
            l.gate.pauseAll();       // returns at once: nothing is held any more
            long now = l.iterations.get(0);
            l.awaitIterations(0, now + 1);
            assertFalse(l.gate.isOutside(0) && l.gate.isOutside(1) && l.iterations.get(0) == now);
        }
    }

    @Test
    void requestPauseFromAVcpuKicksTheOthersOnly() throws Exception {
        try (Loops l = new Loops(false)) {
            l.gate.pauseAll();
            l.kicks.clear();
            l.gate.resume(all());
            l.awaitIterations(1, l.iterations.get(1) + 1);
            l.gate.requestPause(0);
            assertFalse(l.kicks.contains(0), "the vCPU that asked is not kicked");
            assertTrue(l.kicks.contains(1), "the other, halted in the guest, is");
            l.gate.pauseAll();
            assertTrue(l.gate.isOutside(0));
        }
    }
}
