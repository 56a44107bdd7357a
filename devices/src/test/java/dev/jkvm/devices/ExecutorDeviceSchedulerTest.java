package dev.jkvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ExecutorDeviceSchedulerTest {

    @Test
    void runsTasksInDueOrderAndSkipsCancelledOnes() throws Exception {
        List<String> ran = new CopyOnWriteArrayList<>();
        CountDownLatch last = new CountDownLatch(1);
        try (ExecutorDeviceScheduler s = new ExecutorDeviceScheduler()) {
            // Delays far longer than a busy host may keep this thread from its next line (it had
            // 40 and 20 ms, and a loaded host once ran "late" before "now" was even scheduled).
            s.schedule(2_000_000_000L, () -> {
                ran.add("late");
                last.countDown();
            });
            DeviceScheduler.Cancellable c = s.schedule(1_000_000_000L, () -> ran.add("cancelled"));
            s.schedule(0, () -> ran.add("now"));
            c.cancel();
            assertTrue(last.await(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of("now", "late"), ran);
    }

    @Test
    void runsOnADaemonThread() throws Exception {
        boolean[] daemon = new boolean[1];
        CountDownLatch done = new CountDownLatch(1);
        try (ExecutorDeviceScheduler s = new ExecutorDeviceScheduler()) {
            s.schedule(0, () -> {
                daemon[0] = Thread.currentThread().isDaemon();
                done.countDown();
            });
            assertTrue(done.await(30, TimeUnit.SECONDS));
        }
        assertTrue(daemon[0]);
    }

    @Test
    void startsItsThreadWithTheFirstTaskAndRefusesTasksOnceClosed() throws Exception {
        String[] name = new String[1];
        CountDownLatch done = new CountDownLatch(1);
        ExecutorDeviceScheduler s = new ExecutorDeviceScheduler();
        s.schedule(0, () -> {
            name[0] = Thread.currentThread().getName();
            done.countDown();
        });
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertEquals("jkvm-device-timers", name[0]);
        s.close();
        s.close();
        assertThrows(RejectedExecutionException.class, () -> s.schedule(0, () -> { }));
        ExecutorDeviceScheduler unused = new ExecutorDeviceScheduler(); // a machine whose guest set no timer
        unused.close();
        assertThrows(RejectedExecutionException.class, () -> unused.schedule(0, () -> { }));
    }
}
