package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.KvmClockData;
import dev.jkvm.kvm.abi.KvmCoalescedMmioZone;
import dev.jkvm.kvm.abi.KvmDirtyLog;
import dev.jkvm.kvm.abi.KvmIoctls;
import dev.jkvm.kvm.abi.KvmIrqchip;
import dev.jkvm.kvm.abi.KvmPitState2;
import dev.jkvm.kvm.abi.KvmIrqLevel;
import dev.jkvm.kvm.abi.KvmPitConfig;
import dev.jkvm.kvm.abi.KvmUserspaceMemoryRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

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

    /**
     * {@code KVM_REGISTER_COALESCED_MMIO} with {@code pio = 1}: from now on KVM buffers the guest's
     * writes to {@code [port, port + size)} in the VM's {@link CoalescedRing} instead of exiting
     * (reads still exit). Needs {@code KVM_CAP_COALESCED_PIO}.
     */
    public void registerCoalescedPio(int port, int size) {
        coalescedZone(KvmIoctls.KVM_REGISTER_COALESCED_MMIO, port, size);
    }

    /** {@code KVM_UNREGISTER_COALESCED_MMIO}: writes to the zone exit again; entries already in the ring stay. */
    public void unregisterCoalescedPio(int port, int size) {
        coalescedZone(KvmIoctls.KVM_UNREGISTER_COALESCED_MMIO, port, size);
    }

    private void coalescedZone(long request, int port, int size) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment z = arena.allocate(KvmCoalescedMmioZone.SIZEOF, 8);
            z.set(JAVA_LONG, KvmCoalescedMmioZone.ADDR, port);
            z.set(JAVA_INT, KvmCoalescedMmioZone.SIZE, size);
            z.set(JAVA_INT, KvmCoalescedMmioZone.PIO, 1);
            Libc.ioctl(fd, request, z);
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

    /** {@code KVM_IRQ_ROUTING_IRQCHIP}: a route's type that names an irqchip pin (linux/kvm.h). */
    private static final int IRQ_ROUTING_IRQCHIP = 1;
    /** {@code struct kvm_irq_routing}'s header (nr, flags) and one entry (gsi, type, flags, pad, union u of 32 bytes). */
    private static final int ROUTING_HEADER = 8;
    private static final int ROUTING_ENTRY = 48;

    /**
     * {@code KVM_SET_GSI_ROUTING} with irqchip routes only: GSI {@code gsi[i]} drives pin
     * {@code pin[i]} of {@code chip[i]} ({@code KVM_IRQCHIP_PIC_MASTER}, {@code _PIC_SLAVE},
     * {@code _IOAPIC}); a GSI may be listed once per chip. Replaces the whole table.
     */
    public void setIrqchipRouting(int[] gsi, int[] chip, int[] pin) {
        if (gsi.length != chip.length || gsi.length != pin.length) {
            throw new IllegalArgumentException("routing arrays of different lengths");
        }
        try (Arena arena = Arena.ofConfined()) {
            Libc.ioctl(fd, KvmIoctls.KVM_SET_GSI_ROUTING, routingTable(arena, gsi, chip, pin));
        }
    }

    /** The {@code struct kvm_irq_routing} of {@link #setIrqchipRouting}'s routes. */
    static MemorySegment routingTable(Arena arena, int[] gsi, int[] chip, int[] pin) {
        MemorySegment r = arena.allocate(ROUTING_HEADER + (long) ROUTING_ENTRY * gsi.length, 8);
        // The entries go in as one int array: one copy instead of four var-handle accesses each (interpreted at start-up).
        int[] entries = new int[ROUTING_ENTRY / 4 * gsi.length];
        for (int i = 0; i < gsi.length; i++) {
            int at = ROUTING_ENTRY / 4 * i;
            entries[at] = gsi[i];
            entries[at + 1] = IRQ_ROUTING_IRQCHIP;
            entries[at + 4] = chip[i]; // u.irqchip.irqchip, at byte 16
            entries[at + 5] = pin[i]; // u.irqchip.pin, at byte 20
        }
        r.set(JAVA_INT, 0, gsi.length);
        MemorySegment.copy(entries, 0, r, JAVA_INT, ROUTING_HEADER, entries.length);
        return r;
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

    /**
     * {@code KVM_GET_IRQCHIP}: the state of one in-kernel interrupt controller
     * ({@code KVM_IRQCHIP_PIC_MASTER}, {@code _PIC_SLAVE}, {@code _IOAPIC}) as the raw {@code struct kvm_irqchip}.
     */
    public byte[] irqchip(int chipId) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(KvmIrqchip.SIZEOF, 8);
            c.set(JAVA_INT, KvmIrqchip.CHIP_ID, chipId);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_IRQCHIP, c);
            return c.toArray(JAVA_BYTE);
        }
    }

    /** {@code KVM_SET_IRQCHIP} from a raw {@code struct kvm_irqchip} (its {@code chip_id} says which). */
    public void setIrqchip(byte[] kvmIrqchip) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_IRQCHIP, kvmIrqchip, KvmIrqchip.SIZEOF);
    }

    /** {@code KVM_GET_PIT2}: the in-kernel i8254's channels ({@code struct kvm_pit_state2}). */
    public byte[] pit2() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_PIT2, KvmPitState2.SIZEOF);
    }

    /** {@code KVM_SET_PIT2}. */
    public void setPit2(byte[] kvmPitState2) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_PIT2, kvmPitState2, KvmPitState2.SIZEOF);
    }

    /** {@code KVM_GET_CLOCK}: kvmclock's nanoseconds ({@code struct kvm_clock_data}). */
    public byte[] clock() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_CLOCK, KvmClockData.SIZEOF);
    }

    /**
     * {@code KVM_SET_CLOCK}: kvmclock goes on from the saved {@code clock}; the flags that only
     * {@code KVM_GET_CLOCK} reports (TSC_STABLE, REALTIME, HOST_TSC) are cleared, so the guest's
     * time is not moved forward by the host time that passed since.
     */
    public void setClock(byte[] kvmClockData) {
        byte[] copy = kvmClockData.clone();
        Arrays.fill(copy, (int) KvmClockData.FLAGS, (int) KvmClockData.FLAGS + 4, (byte) 0);
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_CLOCK, copy, KvmClockData.SIZEOF);
    }

    /**
     * {@code KVM_GET_DIRTY_LOG} without allocating: {@code request} is a {@code struct kvm_dirty_log}
     * the caller prepared (slot and bitmap address), {@code capture} an errno capture segment.
     * KVM fills the bitmap (one bit per page of the slot, set when the guest wrote it since the
     * last call) and clears its own.
     *
     * @return 0, or the negative ioctl result (errno in {@code capture})
     */
    public int dirtyLogRaw(MemorySegment capture, MemorySegment request) {
        return Libc.ioctlRaw(capture, fd, KvmIoctls.KVM_GET_DIRTY_LOG, request.address());
    }

    /** A {@code struct kvm_dirty_log} for {@link #dirtyLogRaw} naming {@code slot} and {@code bitmap}. */
    public static MemorySegment dirtyLogRequest(Arena arena, int slot, MemorySegment bitmap) {
        MemorySegment r = arena.allocate(KvmDirtyLog.SIZEOF, 8);
        r.set(JAVA_INT, KvmDirtyLog.SLOT, slot);
        r.set(JAVA_LONG, KvmDirtyLog.DIRTY_BITMAP, bitmap.address());
        return r;
    }

    @Override
    public void close() {
        Libc.close(fd);
    }
}
