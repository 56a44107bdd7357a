package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.jkvm.kvm.abi.Errno;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmCpuid2;
import dev.jkvm.kvm.abi.KvmCpuidEntry2;
import dev.jkvm.kvm.abi.KvmIoctls;
import dev.jkvm.kvm.abi.KvmMsrList;
import dev.jkvm.kvm.abi.LibcConstants;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The system file descriptor, {@code /dev/kvm}: what this host's KVM offers, and the factory of VMs.
 *
 * <pre>{@code
 * try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
 *     System.out.println("KVM API " + kvm.apiVersion());
 * }
 * }</pre>
 *
 * <p>Thread-safe: the queries are plain ioctls on a shared fd. Many machines may share one
 * instance.
 */
public final class Kvm implements AutoCloseable {

    /** Where the KVM device normally lives. */
    public static final Path DEVICE = Path.of("/dev/kvm");

    private final int fd;
    private volatile List<CpuidEntry> supportedCpuid;
    private final Object cpuidLock = new Object();
    private volatile int vcpuMmapSize;

    private Kvm(int fd) {
        this.fd = fd;
    }

    /** Opens {@link #DEVICE} and checks the API version is the stable one (12). */
    public static Kvm open() {
        return open(DEVICE);
    }

    /**
     * Opens {@code device}.
     *
     * @throws KvmUnavailableException with a one-line explanation when the device is missing or
     *     cannot be opened
     */
    public static Kvm open(Path device) {
        if (!Files.exists(device)) {
            throw new KvmUnavailableException(device + " does not exist: load the kvm_intel or kvm_amd module"
                    + " (or run on a host that offers KVM)");
        }
        int fd;
        try {
            fd = Libc.open(device.toString(), LibcConstants.O_RDWR | LibcConstants.O_CLOEXEC);
        } catch (KvmException e) {
            throw new KvmUnavailableException("cannot open " + device + ": " + e.getMessage().substring(e.call().length() + 2)
                    + (e.errno() == Errno.EACCES
                            ? "; add your user to the kvm group (or run as root)" : ""));
        }
        Kvm kvm = new Kvm(fd);
        int version = kvm.apiVersion();
        if (version != KvmConstants.KVM_API_VERSION) {
            kvm.close();
            throw new KvmUnavailableException(device + " speaks KVM API " + version + ", jkvm needs "
                    + KvmConstants.KVM_API_VERSION);
        }
        return kvm;
    }

    /** The raw descriptor (for diagnostics). */
    public int fd() {
        return fd;
    }

    /** {@code KVM_GET_API_VERSION}. */
    public int apiVersion() {
        return Libc.ioctl(fd, KvmIoctls.KVM_GET_API_VERSION, 0L);
    }

    /** {@code KVM_CHECK_EXTENSION}: 0 when the capability is absent, else a capability-specific value. */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd, KvmIoctls.KVM_CHECK_EXTENSION, capability);
    }

    /** {@code KVM_GET_VCPU_MMAP_SIZE}: the size of each vCPU's shared {@code kvm_run} area. */
    public int vcpuMmapSize() {
        int size = vcpuMmapSize;
        if (size == 0) {
            size = Libc.ioctl(fd, KvmIoctls.KVM_GET_VCPU_MMAP_SIZE, 0L); // fixed while the module is loaded
            vcpuMmapSize = size;
        }
        return size;
    }

    /** {@code KVM_CREATE_VM} with the default machine type. */
    public VmFd createVm() {
        for (int attempt = 0; ; attempt++) {
            try {
                return new VmFd(this, Libc.ioctl(fd, KvmIoctls.KVM_CREATE_VM, 0L));
            } catch (KvmException e) {
                // A signal (a profiler's, say) can interrupt the kernel's set-up of the VM: try again.
                if (e.errno() != Errno.EINTR || attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    /**
     * {@code KVM_GET_SUPPORTED_CPUID}: every CPUID leaf and bit KVM can give a guest on this host.
     * Cached after the first call (the answer never changes while the module is loaded).
     */
    public List<CpuidEntry> supportedCpuid() {
        List<CpuidEntry> cached = supportedCpuid;
        if (cached == null) {
            // One asks, the others wait for its answer: jkvm's start-up asks on a warm-up thread while
            // the main thread may come to ask too, and reading it twice was ~1 ms of CPU (interpreted).
            synchronized (cpuidLock) {
                cached = supportedCpuid;
                if (cached == null) {
                    cached = List.copyOf(readCpuid(KvmIoctls.KVM_GET_SUPPORTED_CPUID));
                    supportedCpuid = cached;
                }
            }
        }
        return cached;
    }

    private List<CpuidEntry> readCpuid(long request) {
        return CpuidEntry.readTable(fd, request);
    }

    /** {@code KVM_GET_MSR_INDEX_LIST}: the MSRs KVM saves and restores for a guest. */
    public int[] msrIndexList() {
        for (int n = 256; ; n *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(KvmMsrList.SIZEOF + 4L * n, 4);
                buf.set(JAVA_INT, KvmMsrList.NMSRS, n);
                try {
                    Libc.ioctl(fd, KvmIoctls.KVM_GET_MSR_INDEX_LIST, buf);
                } catch (KvmException e) {
                    if (e.errno() == Errno.E2BIG && n < 65536) {
                        continue;
                    }
                    throw e;
                }
                int count = buf.get(JAVA_INT, KvmMsrList.NMSRS);
                return buf.asSlice(KvmMsrList.SIZEOF, 4L * count).toArray(JAVA_INT);
            }
        }
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
