package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmIoctls;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc functions jkvm needs, as FFM downcalls. Every call captures {@code errno} with
 * {@link Linker.Option#captureCallState} and turns a failure into a {@link KvmException}.
 *
 * <p>The hot path ({@code ioctl(KVM_RUN)}) uses {@link #ioctlRaw} with a capture segment the
 * caller preallocated, so running a vCPU allocates nothing.
 */
public final class Libc {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL_PTR = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MADVISE = downcall("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = downcall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle GETTID = downcall("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETPID = downcall("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle TGKILL = downcall("tgkill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SCHED_SETAFFINITY = downcall("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle SCHED_GETAFFINITY = downcall("sched_getaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle SYSCONF = downcall("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle PTHREAD_SIGMASK = downcall("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGTIMEDWAIT = downcall("sigtimedwait",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle SIGACTION = downcall("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /** {@code SIG_IGN}, the handler value that discards a signal. */
    private static final long SIG_IGN = 1;

    /** glibc's {@code sigset_t}: 1024 bits. */
    private static final long SIGSET_BYTES = 128;

    private Libc() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** A segment to receive {@code errno} from calls on a hot path; allocate once per thread. */
    public static MemorySegment newErrnoCapture(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    /** The errno a call left in {@code capture}. */
    public static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** Opens {@code path}; throws naming the path on failure. */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int fd = (int) OPEN.invokeExact(capture, arena.allocateFrom(path), flags, 0);
            if (fd < 0) {
                throw new KvmException("open " + path, errno(capture));
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Closes {@code fd}; errors are ignored, as there is nothing a caller could do about them. */
    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(newErrnoCapture(arena), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument; returns the non-negative result or
     * throws a {@link KvmException} naming the request.
     */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int rc = (int) IOCTL_PTR.invokeExact(capture, fd, request, arg);
            if (rc < 0) {
                throw new KvmException(KvmIoctls.name(request), errno(capture));
            }
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, arg)} with an integer argument; throws on failure. */
    public static int ioctl(int fd, long request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int rc = (int) IOCTL_LONG.invokeExact(capture, fd, request, arg);
            if (rc < 0) {
                throw new KvmException(KvmIoctls.name(request), errno(capture));
            }
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The allocation-free ioctl for hot paths: returns the raw result (negative on failure, with
     * errno in {@code capture}) and never throws for a failed call.
     */
    public static int ioctlRaw(MemorySegment capture, int fd, long request, long arg) {
        try {
            return (int) IOCTL_LONG.invokeExact(capture, fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mmap}; returns a segment of {@code length} bytes at the mapping (unmap with {@link #munmap}). */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(capture, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (addr.address() == -1L) {
                throw new KvmException("mmap " + length + " bytes", errno(capture));
            }
            return addr.reinterpret(length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code munmap} of a segment {@link #mmap} returned. */
    public static void munmap(MemorySegment mapping) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int rc = (int) MUNMAP.invokeExact(capture, mapping, mapping.byteSize());
            if (rc < 0) {
                throw new KvmException("munmap", errno(capture));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code madvise}; returns false (rather than throwing) when the kernel refuses the advice. */
    public static boolean madvise(MemorySegment mapping, int advice) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) MADVISE.invokeExact(newErrnoCapture(arena), mapping, mapping.byteSize(), advice) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code eventfd(initval, flags)}. */
    public static int eventfd(int initval, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int fd = (int) EVENTFD.invokeExact(capture, initval, flags);
            if (fd < 0) {
                throw new KvmException("eventfd", errno(capture));
            }
            return fd;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code read(fd, buf, buf.byteSize())}; returns the count read. */
    public static long read(int fd, MemorySegment buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            long n = (long) READ.invokeExact(capture, fd, buf, buf.byteSize());
            if (n < 0) {
                throw new KvmException("read fd " + fd, errno(capture));
            }
            return n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code pread(fd, buf, buf.byteSize(), offset)} with a caller-owned errno capture, so a
     * periodic reader allocates nothing; returns the count read, or throws.
     */
    public static long pread(MemorySegment capture, int fd, MemorySegment buf, long offset) {
        try {
            long n = (long) PREAD.invokeExact(capture, fd, buf, buf.byteSize(), offset);
            if (n < 0) {
                throw new KvmException("pread fd " + fd, errno(capture));
            }
            return n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code write(fd, buf, buf.byteSize())}; returns the count written. */
    public static long write(int fd, MemorySegment buf) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            long n = (long) WRITE.invokeExact(capture, fd, buf, buf.byteSize());
            if (n < 0) {
                throw new KvmException("write fd " + fd, errno(capture));
            }
            return n;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The calling thread's Linux thread id. */
    public static int gettid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) GETTID.invokeExact(newErrnoCapture(arena));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** This process's id. */
    public static int getpid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) GETPID.invokeExact(newErrnoCapture(arena));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends {@code signal} to thread {@code tid} of this process. */
    public static void tgkill(int tid, int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int rc = (int) TGKILL.invokeExact(capture, getpid(), tid, signal);
            if (rc < 0) {
                throw new KvmException("tgkill " + tid, errno(capture));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Pins thread {@code tid} (0: the caller) to the host CPUs in {@code cpus}. */
    public static void schedSetaffinity(int tid, java.util.BitSet cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            MemorySegment mask = arena.allocate(128); // glibc's cpu_set_t: 1024 CPUs
            long[] words = cpus.toLongArray();
            for (int i = 0; i < words.length && i < 16; i++) {
                mask.setAtIndex(JAVA_LONG, i, words[i]);
            }
            int rc = (int) SCHED_SETAFFINITY.invokeExact(capture, tid, mask.byteSize(), mask);
            if (rc < 0) {
                throw new KvmException("sched_setaffinity " + tid, errno(capture));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The host CPUs thread {@code tid} (0: the caller) may run on. */
    public static java.util.BitSet schedGetaffinity(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            MemorySegment mask = arena.allocate(128);
            int rc = (int) SCHED_GETAFFINITY.invokeExact(capture, tid, mask.byteSize(), mask);
            if (rc < 0) {
                throw new KvmException("sched_getaffinity " + tid, errno(capture));
            }
            return java.util.BitSet.valueOf(mask.toArray(JAVA_LONG));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code sysconf(name)}. */
    public static long sysconf(int name) {
        try (Arena arena = Arena.ofConfined()) {
            return (long) SYSCONF.invokeExact(newErrnoCapture(arena), name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment sigset(Arena arena, int signal) {
        MemorySegment set = arena.allocate(SIGSET_BYTES, 8);
        int bit = signal - 1; // sigset bit n-1 stands for signal n
        set.setAtIndex(JAVA_LONG, bit / 64, 1L << (bit % 64));
        return set;
    }

    /**
     * Blocks {@code signal} in the calling thread and returns the thread's blocked set as the
     * kernel's 64-bit mask, with {@code signal} left out: the mask to hand to
     * {@code KVM_SET_SIGNAL_MASK}, so the signal interrupts {@code KVM_RUN} but is never delivered.
     */
    public static long blockSignalForKvmRun(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            MemorySegment old = arena.allocate(SIGSET_BYTES, 8);
            int rc = (int) PTHREAD_SIGMASK.invokeExact(capture, dev.jkvm.kvm.abi.LibcConstants.SIG_BLOCK, sigset(arena, signal), old);
            if (rc != 0) {
                throw new KvmException("pthread_sigmask", rc);
            }
            return old.get(JAVA_LONG, 0) & ~(1L << (signal - 1));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Sets {@code signal}'s disposition to ignore, process-wide. A kick signal that reaches a
     * thread which does not block it (a vCPU thread that has just exited, say) is then dropped
     * instead of ending the process with the default action of a real-time signal. While a thread
     * blocks the signal, or is inside {@code KVM_RUN} with it blocked in its saved mask, the kernel
     * still queues it, so it still interrupts {@code KVM_RUN}.
     */
    public static void ignoreSignal(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            MemorySegment action = arena.allocate(dev.jkvm.kvm.abi.LibcConstants.SIZEOF_SIGACTION, 8);
            action.set(JAVA_LONG, dev.jkvm.kvm.abi.LibcConstants.SIGACTION_HANDLER, SIG_IGN);
            int rc = (int) SIGACTION.invokeExact(capture, signal, action, MemorySegment.NULL);
            if (rc < 0) {
                throw new KvmException("sigaction " + signal, errno(capture));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Takes a pending, blocked {@code signal} off the calling thread without waiting; true if one was pending. */
    public static boolean consumePendingSignal(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            MemorySegment zero = arena.allocate(16, 8); // struct timespec {0, 0}
            int rc = (int) SIGTIMEDWAIT.invokeExact(capture, sigset(arena, signal), MemorySegment.NULL, zero);
            return rc == signal;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
