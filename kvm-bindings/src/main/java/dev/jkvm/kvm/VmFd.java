package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmIoctls;
import dev.jkvm.kvm.abi.KvmIrqLevel;
import dev.jkvm.kvm.abi.KvmPitConfig;
import dev.jkvm.kvm.abi.KvmUserspaceMemoryRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A VM file descriptor: memory slots, vCPUs and the in-kernel interrupt controllers.
 *
 * <pre>{@code
 * try (VmFd vm = kvm.createVm()) {
 *     vm.setUserMemoryRegion(0, 0, 0x0, ram);   // guest-physical 0 is backed by ram
 *     try (VcpuFd cpu = vm.createVcpu(0)) { ... }
 * }
 * }</pre>
 *
 * <p>Closing it releases only the VM descriptor; vCPUs are closed by their owner.
 */
public final class VmFd implements AutoCloseable {

    private final Kvm kvm;
    private final int fd;

    VmFd(Kvm kvm, int fd) {
        this.kvm = kvm;
        this.fd = fd;
    }

    /** The raw descriptor. */
    public int fd() {
        return fd;
    }

    /** The system this VM was created from. */
    public Kvm kvm() {
        return kvm;
    }

    /** {@code KVM_CHECK_EXTENSION} on the VM (some answers depend on the VM). */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd, KvmIoctls.KVM_CHECK_EXTENSION, capability);
    }

    /**
     * {@code KVM_SET_USER_MEMORY_REGION}: backs {@code [guestPhysAddr, guestPhysAddr + host.byteSize())}
     * with {@code host}. A size of 0 deletes the slot.
     *
     * @param flags {@code KVM_MEM_READONLY} and/or {@code KVM_MEM_LOG_DIRTY_PAGES}
     */
    public void setUserMemoryRegion(int slot, int flags, long guestPhysAddr, MemorySegment host) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(KvmUserspaceMemoryRegion.SIZEOF, 8);
            r.set(JAVA_INT, KvmUserspaceMemoryRegion.SLOT, slot);
            r.set(JAVA_INT, KvmUserspaceMemoryRegion.FLAGS, flags);
            r.set(JAVA_LONG, KvmUserspaceMemoryRegion.GUEST_PHYS_ADDR, guestPhysAddr);
            r.set(JAVA_LONG, KvmUserspaceMemoryRegion.MEMORY_SIZE, host.byteSize());
            r.set(JAVA_LONG, KvmUserspaceMemoryRegion.USERSPACE_ADDR, host.address());
            Libc.ioctl(fd, KvmIoctls.KVM_SET_USER_MEMORY_REGION, r);
        }
    }

    /** {@code KVM_SET_TSS_ADDR}: three pages of guest-physical space KVM needs on Intel hosts for real mode. */
    public void setTssAddr(long address) {
        Libc.ioctl(fd, KvmIoctls.KVM_SET_TSS_ADDR, address);
    }

    /** {@code KVM_SET_IDENTITY_MAP_ADDR}: one page KVM uses for real-mode paging on Intel hosts without unrestricted guest. */
    public void setIdentityMapAddr(long address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(JAVA_LONG);
            a.set(JAVA_LONG, 0, address);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR, a);
        }
    }

    /** {@code KVM_CREATE_IRQCHIP}: the in-kernel PICs, I/O APIC and local APICs. */
    public void createIrqchip() {
        Libc.ioctl(fd, KvmIoctls.KVM_CREATE_IRQCHIP, 0L);
    }

    /** {@code KVM_CREATE_PIT2}: the in-kernel i8254. */
    public void createPit2(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(KvmPitConfig.SIZEOF, 8);
            c.set(JAVA_INT, KvmPitConfig.FLAGS, flags);
            Libc.ioctl(fd, KvmIoctls.KVM_CREATE_PIT2, c);
        }
    }

    /** {@code KVM_IRQ_LINE}: drives input {@code irq} of the in-kernel irqchip. */
    public void irqLine(int irq, boolean level) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment l = arena.allocate(KvmIrqLevel.SIZEOF, 4);
            l.set(JAVA_INT, KvmIrqLevel.IRQ, irq);
            l.set(JAVA_INT, KvmIrqLevel.LEVEL, level ? 1 : 0);
            Libc.ioctl(fd, KvmIoctls.KVM_IRQ_LINE, l);
        }
    }

    /** {@code KVM_CREATE_VCPU} and the mapping of its {@code kvm_run} area. */
    public VcpuFd createVcpu(int id) {
        int vcpuFd = Libc.ioctl(fd, KvmIoctls.KVM_CREATE_VCPU, id);
        try {
            return new VcpuFd(id, vcpuFd, kvm.vcpuMmapSize());
        } catch (RuntimeException e) {
            Libc.close(vcpuFd);
            throw e;
        }
    }

    /** {@code KVM_GET_STATS_FD}: the VM's binary statistics (the caller closes them). */
    public KvmStats stats() {
        return new KvmStats(Libc.ioctl(fd, KvmIoctls.KVM_GET_STATS_FD, 0L));
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
