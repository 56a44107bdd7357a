package dev.jkvm.vmm;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pipe a test reads a child's standard output or error from, made small. A test that waits for
 * "the pipe is full" (so the child's writer is blocked in write(2)) waits for 64 KiB of guest output
 * with Linux's default size: about a minute inside scripts/in-vm, where a guest's byte costs an exit
 * of nearly a millisecond. {@link #shrink} makes it {@link #SIZE} bytes (fcntl F_SETPIPE_SZ on this
 * JVM's end, found by the pipe's inode); {@link #awaitFull} waits until it holds at least a page and
 * grows no more while the guest goes on writing.
 */
final class ChildPipe {

    /** Two pages: the smallest pipe in which a writer of page-sized chunks still leaves a page's bytes to see. */
    static final int SIZE = 8 << 10;

    private static final int PAGE = 4096;
    private static final int F_SETPIPE_SZ = 1031; // F_LINUX_SPECIFIC_BASE + 7, <linux/fcntl.h>
    private static final MethodHandle FCNTL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("fcntl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.firstVariadicArg(2));

    private ChildPipe() {
    }

    /**
     * Makes the pipe on the child's descriptor {@code childFd} (1: stdout, 2: stderr) {@link #SIZE}
     * bytes; call it before the child wrote a page there. Throws when the pipe is not found or
     * refuses (it cannot be made smaller than what it holds).
     */
    static void shrink(Process child, int childFd) throws IOException {
        Path link = Files.readSymbolicLink(Path.of("/proc", Long.toString(child.pid()), "fd", Integer.toString(childFd)));
        if (!link.toString().startsWith("pipe:")) {
            throw new IOException("the child's fd " + childFd + " is " + link + ", not a pipe");
        }
        for (var fd : VcpuThreadsTest.openFdTargets().entrySet()) {
            if (fd.getValue().equals(link.toString())) {
                int rc;
                try {
                    rc = (int) FCNTL.invokeExact(Integer.parseInt(fd.getKey()), F_SETPIPE_SZ, SIZE);
                } catch (Throwable t) {
                    throw new IOException(t);
                }
                if (rc < SIZE) {
                    throw new IOException("fcntl(F_SETPIPE_SZ, " + SIZE + ") on " + link + " returned " + rc);
                }
                return;
            }
        }
        throw new IOException("this JVM holds no end of " + link);
    }

    /**
     * Waits until {@code in} holds at least a page and has not grown for a second while the child is
     * alive: its writer is then blocked on the full pipe (the guests these tests run never stop
     * writing). Throws after {@code seconds}.
     */
    static void awaitFull(InputStream in, Process child, long seconds, String what) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        int last = -1;
        long since = System.nanoTime();
        while (true) {
            int n = in.available();
            long now = System.nanoTime();
            if (n != last) {
                last = n;
                since = now;
            } else if (n >= PAGE && now - since >= 1_000_000_000L) {
                return;
            }
            if (now > deadline || !child.isAlive()) {
                throw new AssertionError("the pipe never filled (" + n + " bytes, child alive: " + child.isAlive() + "): " + what);
            }
            Thread.sleep(50);
        }
    }
}
