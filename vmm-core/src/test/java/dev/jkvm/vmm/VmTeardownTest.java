package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The teardown thread's rules without KVM: steps run in order on it, at most {@link VmTeardown#MAX_PENDING} jobs are
 * pending and a further one runs on the caller's thread at once, a failing step is told once and neither stops the
 * job's other steps nor the thread.
 */
@Isolated // the teardown thread is the process's: machines of other tests would share its slots
class VmTeardownTest {

    private static final Duration RELEASE = Duration.ofSeconds(60); // "does it end", not how fast

    /** A step that waits for {@code gate}, however it is interrupted. */
    private static Runnable waitFor(CountDownLatch gate) {
        return () -> {
            boolean done = false;
            while (!done) {
                try {
                    gate.await();
                    done = true;
                } catch (InterruptedException e) {
                    // the teardown thread is never interrupted; a caller's thread would keep the flag
                }
            }
        };
    }

    @Test
    void aJobBeyondTheBoundRunsOnTheCallersThreadAtOnce() {
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        CountDownLatch gate = new CountDownLatch(1);
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Thread> blocked = new AtomicReference<>();
        VmTeardown.submit(List.of(() -> blocked.set(Thread.currentThread()), waitFor(gate)), line -> { });
        for (int i = 1; i < VmTeardown.MAX_PENDING; i++) {
            String name = "queued " + i;
            VmTeardown.submit(List.of(() -> ran.add(name + " on " + Thread.currentThread().getName())), line -> { });
        }
        assertEquals(VmTeardown.MAX_PENDING, VmTeardown.pending());
        String caller = Thread.currentThread().getName();
        for (int i = 0; i < 3; i++) {
            String name = "inline " + i;
            VmTeardown.submit(List.of(() -> ran.add(name + " on " + Thread.currentThread().getName())), line -> { });
            assertEquals(name + " on " + caller, ran.getLast(), "ran before submit returned, on the caller's thread");
            assertEquals(VmTeardown.MAX_PENDING, VmTeardown.pending());
        }
        assertEquals(3, ran.size()); // the queued ones wait behind the gate
        assertFalse(VmTeardown.awaitReleased(Duration.ofMillis(1)), "released while a job still waits");
        gate.countDown();
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        assertEquals(0, VmTeardown.pending());
        assertEquals(VmTeardown.THREAD_NAME, blocked.get().getName());
        assertTrue(blocked.get().isDaemon());
        for (int i = 1; i < VmTeardown.MAX_PENDING; i++) {
            assertTrue(ran.contains("queued " + i + " on " + VmTeardown.THREAD_NAME), ran.toString());
        }
    }

    @Test
    void aMachineLargerThanTheByteBoundIsReleasedByItsOwnClose() {
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        VmTeardown.submit(List.of(() -> ran.add(Thread.currentThread().getName())), line -> { }, VmTeardown.MAX_PENDING_BYTES + 1);
        assertEquals(List.of(Thread.currentThread().getName()), ran, "ran before submit returned, on the caller's thread");
        VmTeardown.submit(List.of(() -> ran.add(Thread.currentThread().getName())), line -> { }, VmTeardown.MAX_PENDING_BYTES);
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        assertEquals(VmTeardown.THREAD_NAME, ran.getLast(), "one within the bound goes to the thread");
        assertEquals(0, VmTeardown.pending());
    }

    @Test
    void aFailingStepIsToldOnceAndNeitherTheRestNorTheThreadStop() {
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        List<String> told = Collections.synchronizedList(new ArrayList<>());
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Thread> first = new AtomicReference<>();
        VmTeardown.submit(List.of(
                () -> first.set(Thread.currentThread()),
                () -> {
                    throw new IllegalStateException("close: EBADF");
                },
                () -> ran.add("after the failure"),
                () -> {
                    throw new IllegalStateException("a second failure");
                }), told::add);
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        assertEquals(List.of("after the failure"), ran);
        assertEquals(List.of("jkvm: releasing a closed machine's VM and memory failed: java.lang.IllegalStateException: close: EBADF"), told);

        AtomicReference<Thread> second = new AtomicReference<>();
        VmTeardown.submit(List.of(() -> {
            throw new OutOfMemoryError("an Error too");
        }), line -> {
            throw new IllegalStateException("and a log that throws");
        });
        VmTeardown.submit(List.of(() -> second.set(Thread.currentThread())), told::add);
        assertTrue(VmTeardown.awaitReleased(RELEASE));
        assertSame(first.get(), second.get(), "one thread for the process, alive after the failures");
        assertTrue(second.get().isAlive());
        assertEquals(1, told.size());
    }
}
