package dev.jkvm.vmm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.Libc;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TaskStatTest {

    @Test
    void aRunningThreadIsRunningAndTheStateIsTheFieldsFirst() {
        int tid = Libc.gettid();
        assertEquals('R', TaskStat.state(tid));
        assertEquals("R", TaskStat.fields(tid)[0]);
    }

    @Test
    void aWaitingThreadSleeps() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger tid = new AtomicInteger();
        // a name with spaces and parentheses, as a command name may have: the last ')' ends it
        Thread t = Thread.ofPlatform().name("a (b) c)").start(() -> {
            tid.set(Libc.gettid());
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                // ends
            }
        });
        started.await();
        char state = '?';
        for (int i = 0; i < 200 && state != 'S'; i++) { // until it has gone to sleep in await
            Thread.sleep(10);
            state = TaskStat.state(tid.get());
        }
        assertEquals('S', state);
        assertTrue(HostCpus.asleep(tid.get()));
        release.countDown();
        t.join();
    }

    @Test
    void aThreadThatIsGoneHasNoState() {
        assertEquals('?', TaskStat.state(Integer.MAX_VALUE));
        assertEquals(null, TaskStat.fields(Integer.MAX_VALUE));
    }
}
