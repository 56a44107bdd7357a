package dev.jkvm.vmm.vcpu;

import dev.jkvm.kvm.Libc;
import dev.jkvm.vmm.host.ThreadTimes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Platform threads kept, parked, for the next vCPU once theirs has ended: a tiny guest's machine
 * then costs no thread start and teardown (clone, stack guard pages, the JVM's attach and detach,
 * the join's wait for all of it). A thread runs one vCPU at a time and is named {@code CPU n/KVM}
 * while it does; the vCPU pins it and blocks its kick signal as on a new thread. When the vCPU
 * ends, the thread gets back the host CPUs it started with (whoever changed them: {@code -vcpu-affinity},
 * {@code taskset}), its interrupt is cleared, and the kick stays blocked (as outside {@code KVM_RUN}).
 * Parked, a thread is named {@value #IDLE_NAME} and ends after {@link #IDLE} without work, so a
 * process that stops making machines is left with none of them.
 */
final class VcpuThreadPool {

    /** The name of a parked thread. */
    static final String IDLE_NAME = "jkvm idle vCPU";
    /** How long a parked thread waits for the next vCPU before it ends. */
    static final Duration IDLE = Duration.ofSeconds(2);
    /** At most this many parked threads (a 64-vCPU machine's, say); more end at once. */
    static final int MAX_IDLE = 64;

    private static final Object LOCK = new Object();
    /** Parked carriers, the most recently parked first (its stack and caches are the warmest). Guarded by LOCK. */
    private static final Deque<Carrier> PARKED = new ArrayDeque<>();

    /** The carrier of the current thread, or null on any other thread. */
    private static final ThreadLocal<Carrier> CURRENT = new ThreadLocal<>();

    private VcpuThreadPool() {
    }

    /** Whether the current thread is a vCPU's (running one or parked between two): it must never wait for a sink. */
    static boolean onCarrier() {
        return CURRENT.get() != null;
    }

    /** Runs {@code job} on a parked thread, or on a new daemon platform thread named {@code name} when none is parked. */
    static void start(String name, Consumer<Carrier> job) {
        Carrier c;
        synchronized (LOCK) {
            c = PARKED.pollFirst();
            if (c != null) {
                c.next(name, job);
            }
        }
        if (c != null) {
            LockSupport.unpark(c.thread);
            return;
        }
        c = new Carrier();
        c.next(name, job);
        c.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(c::serve);
        c.thread.start();
    }

    /** How many threads are parked now (for tests). */
    static int parked() {
        synchronized (LOCK) {
            return PARKED.size();
        }
    }

    /** One pooled platform thread and what it knows of its own past. */
    static final class Carrier {
        private Thread thread;
        /** The next vCPU's name and body; set under LOCK, taken by the thread itself. */
        private volatile String name;
        private volatile Consumer<Carrier> job;
        /** Whether the thread ran a vCPU before this one. */
        private boolean reused;
        /** The thread's CPU times as its previous vCPU ended (null on a new thread). */
        private ThreadTimes timesBefore;
        /** The host CPUs the thread started with, which every vCPU it runs starts with too. */
        private BitSet cpus;
        /** Whether {@link #finish} parked it (else the pool was full: the thread ends). */
        private boolean kept;
        /** Its own stat file, opened by its first vCPU's end, closed when the thread ends. */
        private ThreadTimes.Own stat;
        private boolean noStat;

        private void next(String nextName, Consumer<Carrier> nextJob) {
            name = nextName;
            job = nextJob;
        }

        /** The platform thread. */
        Thread thread() {
            return thread;
        }

        /** Whether the thread ran another vCPU before: a kick meant for that one may still be pending. */
        boolean reused() {
            return reused;
        }

        /** The thread's CPU times when the vCPU before this one ended, or null on a new thread (its times are all this vCPU's). */
        ThreadTimes timesBefore() {
            return timesBefore;
        }

        /** Told by the vCPU as it ends: the thread's CPU times then (what the next vCPU's are counted from). */
        void timesAtEnd(ThreadTimes times) {
            timesBefore = times;
        }

        /** On the thread: its CPU times now, or null when /proc cannot tell. */
        ThreadTimes times() {
            if (stat == null && !noStat) {
                try {
                    stat = new ThreadTimes.Own();
                } catch (RuntimeException e) {
                    noStat = true;
                }
            }
            return stat == null ? null : stat.read();
        }

        /**
         * On the thread, as its vCPU ends: made ready for the next vCPU (the host CPUs it started
         * with, whoever changed them since: {@code -vcpu-affinity}, {@code taskset}; no interrupt;
         * the idle name) and parked in the pool, and only then {@code done} runs: whoever waited
         * for the vCPU's end (and may start the next machine at once) finds the thread there,
         * instead of making another while this one waits for a CPU to finish parking.
         */
        void finish(Runnable done) {
            try {
                reused = true;
                if (!Libc.schedGetaffinity(0).equals(cpus)) {
                    Libc.schedSetaffinity(0, cpus);
                }
                Thread.interrupted(); // an interrupt meant for the vCPU that ended stays with it
                Thread.currentThread().setName(IDLE_NAME);
                synchronized (LOCK) {
                    kept = PARKED.size() < MAX_IDLE;
                    if (kept) {
                        PARKED.addFirst(this);
                    }
                }
            } finally {
                done.run();
            }
        }

        private void serve() {
            try {
                CURRENT.set(this);
                cpus = Libc.schedGetaffinity(0);
                Consumer<Carrier> j = job;
                while (j != null) {
                    job = null;
                    kept = false;
                    j.accept(this); // ends with finish()
                    j = kept ? awaitNext() : null;
                }
            } finally {
                if (stat != null) {
                    stat.close();
                }
            }
        }

        /** Waits, parked, for the next vCPU, or returns null when it did not come within {@link #IDLE} (the thread then ends). */
        private Consumer<Carrier> awaitNext() {
            long deadline = System.nanoTime() + IDLE.toNanos();
            while (true) {
                Consumer<Carrier> j = job;
                if (j != null) {
                    Thread.currentThread().setName(name); // from the thread itself: also the kernel's name (ps -L, top -H)
                    return j;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    synchronized (LOCK) {
                        if (job == null) {
                            PARKED.remove(this);
                            return null;
                        }
                    }
                    continue; // taken just now: the job is set
                }
                LockSupport.parkNanos(this, left);
            }
        }
    }
}
