package dev.jkvm.kvm;

import static dev.jkvm.kvm.abi.Syscalls.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmIoctls;
import dev.jkvm.kvm.abi.LibcConstants;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.BitSet;

/**
 * The system calls jkvm needs, as FFM downcalls. Every call captures {@code errno} with
 * {@link Linker.Option#captureCallState} and turns a failure into a {@link KvmException}.
 *
 * <p>Every system call goes through glibc's {@code syscall(2)}, so the whole process links one
 * downcall stub (the terminal's three libc calls link theirs when stdin is a terminal): the linker generates
 * classes for each distinct C signature, a few milliseconds of start-up each, and jkvm used to
 * link twenty. Pointers travel as their addresses.
 *
 * <p>The hot path ({@code ioctl(KVM_RUN)}) uses {@link #ioctlRaw} with a capture segment the
 * caller preallocated, so running a vCPU allocates nothing.
 */
public final class Libc {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /**
     * {@code long syscall(long number, ...)} with six arguments; the kernel ignores those a call does
     * not take. Linked as a plain seven-argument function: on x86-64 a variadic call differs only in
     * {@code %al} (how many vector registers carry arguments), which glibc's {@code syscall}, a stub
     * that moves six integer registers into the kernel's, never reads; the linker's variadic path
     * costs 15-20 ms more of start-up (measured: 38 ms against 17-22 ms for the first link).
     */
    private static final MethodHandle SYSCALL = downcall("syscall", FunctionDescriptor.of(JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));

    static {
        // The first call through the handle links the call sites inside its stub (LambdaForms are
        // spun: ~5 ms, interpreted). Made here, under this class's initialization, it happens once,
        // on the thread that links (jkvm's warm-up thread), instead of on every thread whose first
        // system call comes at the same time (the main thread's mmap of guest memory did it again).
        try (Arena arena = Arena.ofConfined()) {
            syscall(newErrnoCapture(arena), SYS_getpid, 0, 0, 0, 0, 0, 0);
        }
    }

    /** {@code int f(int, int, long)}: tcsetattr. */
    static final FunctionDescriptor INT_OF_INT_INT_LONG = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    /** {@code void f(long)}: cfmakeraw. */
    static final FunctionDescriptor VOID_OF_LONG = FunctionDescriptor.ofVoid(JAVA_LONG);

    /** {@code SIG_IGN}, the handler value that discards a signal. */
    private static final long SIG_IGN = 1;

    private Libc() {
    }

    /** Links libc's {@code name} with errno captured (the capture segment is the handle's first argument). */
    static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
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

    /** System call {@code number}; returns its result, -1 with errno in {@code capture} on failure. */
    static long syscall(MemorySegment capture, int number, long a, long b, long c, long d, long e, long f) {
        try {
            return (long) SYSCALL.invokeExact(capture, (long) number, a, b, c, d, e, f);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** System call {@code number} with up to four arguments; throws naming {@code what} on failure. */
    private static long call(String what, int number, long a, long b, long c, long d) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            long rc = syscall(capture, number, a, b, c, d, 0, 0);
            if (rc < 0) {
                throw new KvmException(what, errno(capture));
            }
            return rc;
        }
    }

    /** Opens {@code path}; throws naming the path on failure. */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) call("open " + path, SYS_openat, AT_FDCWD, arena.allocateFrom(path).address(), flags, 0);
        }
    }

    /** Closes {@code fd}; errors are ignored, as there is nothing a caller could do about them. */
    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            syscall(newErrnoCapture(arena), SYS_close, fd, 0, 0, 0, 0, 0);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument; returns the non-negative result or
     * throws a {@link KvmException} naming the request.
     */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        return ioctl(fd, request, arg.address());
    }

    /** {@code ioctl(fd, request, arg)} with an integer argument; throws on failure. */
    public static int ioctl(int fd, long request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            int rc = ioctlRaw(capture, fd, request, arg);
            if (rc < 0) {
                throw new KvmException(KvmIoctls.name(request), errno(capture));
            }
            return rc;
        }
    }

    /** {@code ioctl(fd, request, &struct)} that fills a struct of {@code size} bytes; returns its bytes as KVM laid them out. */
    public static byte[] ioctlGet(int fd, long request, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(size, 8);
            ioctl(fd, request, buf);
            return buf.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** {@code ioctl(fd, request, &struct)} with a struct of exactly {@code size} bytes ({@code data}, as KVM lays it out). */
    public static void ioctlSet(int fd, long request, byte[] data, long size) {
        if (data.length != size) {
            throw new IllegalArgumentException(KvmIoctls.name(request) + " takes " + size + " bytes, not " + data.length);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(size, 8);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            ioctl(fd, request, buf);
        }
    }

    /**
     * The allocation-free ioctl for hot paths: returns the raw result (negative on failure, with
     * errno in {@code capture}) and never throws for a failed call.
     */
    public static int ioctlRaw(MemorySegment capture, int fd, long request, long arg) {
        return (int) syscall(capture, SYS_ioctl, fd, request, arg, 0, 0, 0);
    }

    /** {@code mmap}; returns a segment of {@code length} bytes at the mapping (unmap with {@link #munmap}). */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = newErrnoCapture(arena);
            long addr = syscall(capture, SYS_mmap, 0, length, prot, flags, fd, offset);
            if (addr == -1L) {
                throw new KvmException("mmap " + length + " bytes", errno(capture));
            }
            return MemorySegment.ofAddress(addr).reinterpret(length);
        }
    }

    /** {@code munmap} of a segment {@link #mmap} returned. */
    public static void munmap(MemorySegment mapping) {
        call("munmap", SYS_munmap, mapping.address(), mapping.byteSize(), 0, 0);
    }

    /** {@code madvise}; returns false (rather than throwing) when the kernel refuses the advice. */
    public static boolean madvise(MemorySegment mapping, int advice) {
        try (Arena arena = Arena.ofConfined()) {
            return syscall(newErrnoCapture(arena), SYS_madvise, mapping.address(), mapping.byteSize(), advice, 0, 0, 0) == 0;
        }
    }

    /** {@code mprotect} over the whole (page-aligned) segment. */
    public static void mprotect(MemorySegment mapping, int prot) {
        call("mprotect", SYS_mprotect, mapping.address(), mapping.byteSize(), prot, 0);
    }

    /** {@code eventfd(initval, flags)}. */
    public static int eventfd(int initval, int flags) {
        return (int) call("eventfd", SYS_eventfd2, initval, flags, 0, 0);
    }

    /** {@code read(fd, buf, buf.byteSize())}; returns the count read. */
    public static long read(int fd, MemorySegment buf) {
        return call("read fd " + fd, SYS_read, fd, buf.address(), buf.byteSize(), 0);
    }

    /**
     * {@code pread(fd, buf, buf.byteSize(), offset)} with a caller-owned errno capture, so a
     * periodic reader allocates nothing; returns the count read, or throws.
     */
    public static long pread(MemorySegment capture, int fd, MemorySegment buf, long offset) {
        long n = syscall(capture, SYS_pread64, fd, buf.address(), buf.byteSize(), offset, 0, 0);
        if (n < 0) {
            throw new KvmException("pread fd " + fd, errno(capture));
        }
        return n;
    }

    /** {@code write(fd, buf, buf.byteSize())}; returns the count written. */
    public static long write(int fd, MemorySegment buf) {
        return call("write fd " + fd, SYS_write, fd, buf.address(), buf.byteSize(), 0);
    }

    /** The calling thread's Linux thread id. */
    public static int gettid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(newErrnoCapture(arena), SYS_gettid, 0, 0, 0, 0, 0, 0);
        }
    }

    /** This process's id. */
    public static int getpid() {
        try (Arena arena = Arena.ofConfined()) {
            return (int) syscall(newErrnoCapture(arena), SYS_getpid, 0, 0, 0, 0, 0, 0);
        }
    }

    /** Sends {@code signal} to thread {@code tid} of this process. */
    public static void tgkill(int tid, int signal) {
        call("tgkill " + tid, SYS_tgkill, getpid(), tid, signal, 0);
    }

    /** Pins thread {@code tid} (0: the caller) to the host CPUs in {@code cpus}. */
    public static void schedSetaffinity(int tid, BitSet cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128); // glibc's cpu_set_t: 1024 CPUs
            long[] words = cpus.toLongArray();
            for (int i = 0; i < words.length && i < 16; i++) {
                mask.setAtIndex(JAVA_LONG, i, words[i]);
            }
            call("sched_setaffinity " + tid, SYS_sched_setaffinity, tid, mask.byteSize(), mask.address(), 0);
        }
    }

    /** The host CPUs thread {@code tid} (0: the caller) may run on. */
    public static BitSet schedGetaffinity(int tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(128);
            // The system call returns the bytes of mask it wrote; the rest stays zero.
            call("sched_getaffinity " + tid, SYS_sched_getaffinity, tid, mask.byteSize(), mask.address(), 0);
            return BitSet.valueOf(mask.toArray(JAVA_LONG));
        }
    }

    /** The kernel's 64-bit signal set holding only {@code signal}. */
    private static MemorySegment sigset(Arena arena, int signal) {
        MemorySegment set = arena.allocate(KERNEL_SIGSET_BYTES, 8);
        set.set(JAVA_LONG, 0, 1L << (signal - 1)); // bit n-1 stands for signal n
        return set;
    }

    /**
     * Blocks {@code signal} in the calling thread and returns the thread's blocked set as the
     * kernel's 64-bit mask, with {@code signal} left out: the mask to hand to
     * {@code KVM_SET_SIGNAL_MASK}, so the signal interrupts {@code KVM_RUN} but is never delivered.
     */
    public static long blockSignalForKvmRun(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(KERNEL_SIGSET_BYTES, 8);
            call("rt_sigprocmask", SYS_rt_sigprocmask, LibcConstants.SIG_BLOCK, sigset(arena, signal).address(),
                    old.address(), KERNEL_SIGSET_BYTES);
            return old.get(JAVA_LONG, 0) & ~(1L << (signal - 1));
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
        // rt_sigaction(2) through the one syscall stub, not glibc's sigaction (a second stub to
        // link, ~9 ms of start-up). The kernel reads its own struct (handler, flags, restorer, mask:
        // 32 bytes on x86-64); for SIG_IGN all but the handler are zero, and the handler leads
        // glibc's struct as it leads the kernel's (SIGACTION_HANDLER is 0), so a zeroed struct of
        // glibc's size, larger than the kernel's, holds a valid action for either.
        if (LibcConstants.SIGACTION_HANDLER != 0 || LibcConstants.SIZEOF_SIGACTION < 4 * Long.BYTES) {
            throw new IllegalStateException("struct sigaction does not start with its handler");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment action = arena.allocate(LibcConstants.SIZEOF_SIGACTION, 8); // zeroed
            action.set(JAVA_LONG, LibcConstants.SIGACTION_HANDLER, SIG_IGN);
            call("rt_sigaction " + signal, SYS_rt_sigaction, signal, action.address(), 0, KERNEL_SIGSET_BYTES);
        }
    }

    /** Takes a pending, blocked {@code signal} off the calling thread without waiting; true if one was pending. */
    public static boolean consumePendingSignal(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(16, 8); // struct timespec {0, 0}
            long rc = syscall(newErrnoCapture(arena), SYS_rt_sigtimedwait, sigset(arena, signal).address(), 0,
                    zero.address(), KERNEL_SIGSET_BYTES, 0, 0);
            return rc == signal;
        }
    }

    /** Whether {@code fd} is a terminal (isatty(3) is this same request). */
    public static boolean isTerminal(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment termios = arena.allocate(128, 8); // the kernel's struct termios is 36 bytes
            return ioctlRaw(newErrnoCapture(arena), fd, TCGETS, termios.address()) == 0;
        }
    }
}
