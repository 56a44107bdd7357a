package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.jkvm.kvm.abi.Errno;
import dev.jkvm.kvm.abi.KvmCpuid2;
import dev.jkvm.kvm.abi.KvmCpuidEntry2;
import dev.jkvm.kvm.abi.KvmDebugregs;
import dev.jkvm.kvm.abi.KvmFpu;
import dev.jkvm.kvm.abi.KvmGuestDebug;
import dev.jkvm.kvm.abi.KvmGuestDebugArch;
import dev.jkvm.kvm.abi.KvmIoctls;
import dev.jkvm.kvm.abi.KvmLapicState;
import dev.jkvm.kvm.abi.KvmMsrEntry;
import dev.jkvm.kvm.abi.KvmMsrs;
import dev.jkvm.kvm.abi.KvmMpState;
import dev.jkvm.kvm.abi.KvmRegs;
import dev.jkvm.kvm.abi.KvmRun;
import dev.jkvm.kvm.abi.KvmSignalMask;
import dev.jkvm.kvm.abi.KvmSregs;
import dev.jkvm.kvm.abi.KvmTranslation;
import dev.jkvm.kvm.abi.KvmVcpuEvents;
import dev.jkvm.kvm.abi.KvmXcrs;
import dev.jkvm.kvm.abi.KvmXsave;
import dev.jkvm.kvm.abi.LibcConstants;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A vCPU file descriptor and its shared {@code kvm_run} area.
 *
 * <pre>{@code
 * try (VcpuFd cpu = vm.createVcpu(0)) {
 *     while (cpu.run() == KvmConstants.KVM_EXIT_IO) { ... cpu.exit().io().port() ... }
 * }
 * }</pre>
 *
 * <p>{@link #run()} is the hot path: it allocates nothing. It must be called from one thread
 * only, the vCPU's own; the other methods may be called from any thread while the vCPU is
 * outside {@code KVM_RUN}.
 */
public final class VcpuFd implements AutoCloseable {

    /** What {@link #run()} returns when a signal or {@code immediate_exit} made KVM_RUN return early. */
    public static final int INTERRUPTED = -1;

    private final int id;
    private final int fd;
    private final MemorySegment kvmRun;
    private final VcpuExit exit;
    /**
     * KVM_RUN's errno, in a segment the collector frees with this object: closing a shared arena
     * would stop every thread of the JVM for a handshake at each vCPU's close.
     */
    private final MemorySegment errnoCapture;

    VcpuFd(int id, int fd, int mmapSize) {
        this.id = id;
        this.fd = fd;
        this.kvmRun = Libc.mmap(mmapSize, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE,
                LibcConstants.MAP_SHARED, fd, 0);
        this.exit = new VcpuExit(kvmRun);
        this.errnoCapture = Libc.newErrnoCapture(Arena.ofAuto());
    }

    /** The vCPU index given to {@code KVM_CREATE_VCPU} (its APIC ID unless set otherwise). */
    public int id() {
        return id;
    }

    /** The raw descriptor. */
    public int fd() {
        return fd;
    }

    /** The mmap'd {@code struct kvm_run}, read with the offsets in {@link KvmRun}. */
    public MemorySegment kvmRun() {
        return kvmRun;
    }

    /** The typed view of the last exit over {@link #kvmRun()}: one per vCPU, read in place. */
    public VcpuExit exit() {
        return exit;
    }

    /**
     * {@code KVM_RUN}: enters the guest until the next exit KVM does not handle itself.
     *
     * @return the exit reason ({@code KVM_EXIT_*}), or {@link #INTERRUPTED} when a signal or
     *     {@code immediate_exit} ended the call before or during guest execution
     */
    public int run() {
        int rc = Libc.ioctlRaw(errnoCapture, fd, KvmIoctls.KVM_RUN, 0L);
        if (rc < 0) {
            int errno = Libc.errno(errnoCapture);
            if (errno == Errno.EINTR || errno == Errno.EAGAIN) {
                return INTERRUPTED;
            }
            throw new KvmException("KVM_RUN", errno);
        }
        return kvmRun.get(JAVA_INT, KvmRun.EXIT_REASON);
    }

    /** Sets {@code kvm_run.immediate_exit}: while set, KVM_RUN returns at once with EINTR. */
    public void setImmediateExit(boolean on) {
        kvmRun.set(JAVA_BYTE, KvmRun.IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** {@code KVM_GET_REGS}. */
    public Regs regs() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmRegs.SIZEOF, 8);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_REGS, buf);
            return Regs.read(buf);
        }
    }

    /** {@code KVM_SET_REGS}. */
    public void setRegs(Regs regs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmRegs.SIZEOF, 8);
            regs.write(buf);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_REGS, buf);
        }
    }

    /** {@code KVM_GET_SREGS}. */
    public Sregs sregs() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmSregs.SIZEOF, 8);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_SREGS, buf);
            return Sregs.read(buf);
        }
    }

    /** {@code KVM_SET_SREGS}, keeping the pending-interrupt bitmap KVM has. */
    public void setSregs(Sregs sregs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmSregs.SIZEOF, 8);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_SREGS, buf);
            sregs.write(buf);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_SREGS, buf);
        }
    }

    /** {@code KVM_SET_CPUID2}: what the guest's CPUID instruction answers. */
    public void setCpuid(List<CpuidEntry> entries) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmCpuid2.SIZEOF + entries.size() * KvmCpuidEntry2.SIZEOF, 8);
            buf.set(JAVA_INT, KvmCpuid2.NENT, entries.size());
            CpuidEntry.writeEntries(entries, buf);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_CPUID2, buf);
        }
    }

    /** {@code KVM_GET_CPUID2}: the CPUID table KVM holds for this vCPU (what {@link #setCpuid} left, as KVM adjusted it). */
    public List<CpuidEntry> cpuid() {
        return CpuidEntry.readTable(fd, KvmIoctls.KVM_GET_CPUID2);
    }

    /** {@code KVM_NMI}: queues a non-maskable interrupt for this vCPU (QMP's inject-nmi). */
    public void nmi() {
        Libc.ioctl(fd, KvmIoctls.KVM_NMI, 0L);
    }

    /** {@code KVM_GET_MP_STATE}: {@code KVM_MP_STATE_RUNNABLE}, {@code _HALTED}, {@code _INIT_RECEIVED}, ... */
    public int mpState() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmMpState.SIZEOF, 4);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_MP_STATE, buf);
            return buf.get(JAVA_INT, KvmMpState.MP_STATE);
        }
    }

    /** {@code KVM_SET_MP_STATE}. */
    public void setMpState(int state) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmMpState.SIZEOF, 4);
            buf.set(JAVA_INT, KvmMpState.MP_STATE, state);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_MP_STATE, buf);
        }
    }

    /**
     * {@code KVM_SET_SIGNAL_MASK}: the signals blocked while the vCPU is in {@code KVM_RUN}, as the
     * kernel's 64-bit mask (see {@link Libc#blockSignalForKvmRun}).
     */
    public void setSignalMask(long kernelMask) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmSignalMask.SIZEOF + 8, 8);
            buf.set(JAVA_INT, KvmSignalMask.LEN, 8);
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, KvmSignalMask.SIZEOF, kernelMask);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_SIGNAL_MASK, buf);
        }
    }

    /**
     * {@code KVM_TRANSLATE}: the guest-physical address of a linear address through the vCPU's
     * current page tables, or -1 when it is not mapped.
     */
    public long translate(long linear) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmTranslation.SIZEOF, 8);
            buf.set(JAVA_LONG, KvmTranslation.LINEAR_ADDRESS, linear);
            Libc.ioctl(fd, KvmIoctls.KVM_TRANSLATE, buf);
            return buf.get(JAVA_BYTE, KvmTranslation.VALID) != 0
                    ? buf.get(JAVA_LONG, KvmTranslation.PHYSICAL_ADDRESS) : -1;
        }
    }

    /** {@code KVM_GET_STATS_FD}: this vCPU's binary statistics (the caller closes them). */
    public KvmStats stats() {
        return new KvmStats(Libc.ioctl(fd, KvmIoctls.KVM_GET_STATS_FD, 0L));
    }

    /**
     * {@code KVM_SET_GUEST_DEBUG}: {@code control} is a set of {@code KVM_GUESTDBG_*} flags (0 turns
     * debugging off), {@code debugreg} up to 8 values for {@code arch.debugreg} (DR0-3 addresses,
     * DR7 at index 7; missing entries are 0).
     */
    public void setGuestDebug(int control, long[] debugreg) {
        if (debugreg.length > KvmGuestDebugArch.DEBUGREG_LENGTH) {
            throw new IllegalArgumentException("at most " + KvmGuestDebugArch.DEBUGREG_LENGTH + " debug registers");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmGuestDebug.SIZEOF, 8);
            buf.set(JAVA_INT, KvmGuestDebug.CONTROL, control);
            for (int i = 0; i < debugreg.length; i++) {
                buf.set(JAVA_LONG, KvmGuestDebug.ARCH + KvmGuestDebugArch.DEBUGREG + 8L * i, debugreg[i]);
            }
            Libc.ioctl(fd, KvmIoctls.KVM_SET_GUEST_DEBUG, buf);
        }
    }

    /** {@code KVM_GET_FPU}: the raw {@code struct kvm_fpu} (read it with the offsets in {@link KvmFpu}). */
    public byte[] fpu() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmFpu.SIZEOF, 8);
            Libc.ioctl(fd, KvmIoctls.KVM_GET_FPU, buf);
            return buf.toArray(JAVA_BYTE);
        }
    }

    /** {@code KVM_SET_FPU} from a raw {@code struct kvm_fpu} of {@link KvmFpu#SIZEOF} bytes. */
    public void setFpu(byte[] kvmFpu) {
        if (kvmFpu.length != KvmFpu.SIZEOF) {
            throw new IllegalArgumentException("struct kvm_fpu is " + KvmFpu.SIZEOF + " bytes, not " + kvmFpu.length);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(KvmFpu.SIZEOF, 8);
            MemorySegment.copy(kvmFpu, 0, buf, JAVA_BYTE, 0, kvmFpu.length);
            Libc.ioctl(fd, KvmIoctls.KVM_SET_FPU, buf);
        }
    }

    // ---- the whole state of a vCPU, for snapshots: each struct as KVM lays it out ----

    /** {@code KVM_GET_SREGS} as the raw {@code struct kvm_sregs} (with the pending-interrupt bitmap). */
    public byte[] sregsRaw() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_SREGS, KvmSregs.SIZEOF);
    }

    /** {@code KVM_SET_SREGS} from a raw {@code struct kvm_sregs}. */
    public void setSregsRaw(byte[] kvmSregs) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_SREGS, kvmSregs, KvmSregs.SIZEOF);
    }

    /** {@code KVM_GET_REGS} as the raw {@code struct kvm_regs}. */
    public byte[] regsRaw() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_REGS, KvmRegs.SIZEOF);
    }

    /** {@code KVM_SET_REGS} from a raw {@code struct kvm_regs}. */
    public void setRegsRaw(byte[] kvmRegs) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_REGS, kvmRegs, KvmRegs.SIZEOF);
    }

    /** {@code KVM_GET_LAPIC}: the local APIC's register page ({@code struct kvm_lapic_state}). */
    public byte[] lapic() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_LAPIC, KvmLapicState.SIZEOF);
    }

    /** {@code KVM_SET_LAPIC}. */
    public void setLapic(byte[] kvmLapicState) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_LAPIC, kvmLapicState, KvmLapicState.SIZEOF);
    }

    /** {@code KVM_GET_VCPU_EVENTS}: pending and injected exceptions, interrupts, NMI, SIPI vector, SMM. */
    public byte[] vcpuEvents() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_VCPU_EVENTS, KvmVcpuEvents.SIZEOF);
    }

    /** {@code KVM_SET_VCPU_EVENTS}, with the {@code flags} the saved struct carries. */
    public void setVcpuEvents(byte[] kvmVcpuEvents) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_VCPU_EVENTS, kvmVcpuEvents, KvmVcpuEvents.SIZEOF);
    }

    /** {@code KVM_GET_DEBUGREGS}: DR0-3, DR6, DR7. */
    public byte[] debugRegs() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_DEBUGREGS, KvmDebugregs.SIZEOF);
    }

    /** {@code KVM_SET_DEBUGREGS}. */
    public void setDebugRegs(byte[] kvmDebugregs) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_DEBUGREGS, kvmDebugregs, KvmDebugregs.SIZEOF);
    }

    /** {@code KVM_GET_XSAVE}: the legacy 4 KiB XSAVE area (x87, SSE, AVX state). */
    public byte[] xsave() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_XSAVE, KvmXsave.SIZEOF);
    }

    /** {@code KVM_SET_XSAVE}. */
    public void setXsave(byte[] kvmXsave) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_XSAVE, kvmXsave, KvmXsave.SIZEOF);
    }

    /** {@code KVM_GET_XCRS}: the extended control registers (XCR0). */
    public byte[] xcrs() {
        return Libc.ioctlGet(fd, KvmIoctls.KVM_GET_XCRS, KvmXcrs.SIZEOF);
    }

    /** {@code KVM_SET_XCRS}. */
    public void setXcrs(byte[] kvmXcrs) {
        Libc.ioctlSet(fd, KvmIoctls.KVM_SET_XCRS, kvmXcrs, KvmXcrs.SIZEOF);
    }

    /**
     * {@code KVM_GET_MSRS}: the values of {@code indices}, in order. KVM stops at the first MSR it
     * cannot read; the returned array is then shorter (its length is the count KVM read).
     */
    public long[] msrs(int[] indices) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = msrBuffer(a, indices, null);
            int n = Libc.ioctl(fd, KvmIoctls.KVM_GET_MSRS, buf);
            long[] values = new long[n];
            for (int i = 0; i < n; i++) {
                values[i] = buf.get(JAVA_LONG, KvmMsrs.SIZEOF + i * KvmMsrEntry.SIZEOF + KvmMsrEntry.DATA);
            }
            return values;
        }
    }

    /** {@code KVM_SET_MSRS}; returns how many KVM set (it stops at the first it refuses). */
    public int setMsrs(int[] indices, long[] values) {
        if (values.length != indices.length) {
            throw new IllegalArgumentException(indices.length + " MSR indices but " + values.length + " values");
        }
        try (Arena a = Arena.ofConfined()) {
            return Libc.ioctl(fd, KvmIoctls.KVM_SET_MSRS, msrBuffer(a, indices, values));
        }
    }

    private static MemorySegment msrBuffer(Arena a, int[] indices, long[] values) {
        MemorySegment buf = a.allocate(KvmMsrs.SIZEOF + indices.length * KvmMsrEntry.SIZEOF, 8);
        buf.set(JAVA_INT, KvmMsrs.NMSRS, indices.length);
        for (int i = 0; i < indices.length; i++) {
            long at = KvmMsrs.SIZEOF + i * KvmMsrEntry.SIZEOF;
            buf.set(JAVA_INT, at + KvmMsrEntry.INDEX, indices[i]);
            buf.set(JAVA_LONG, at + KvmMsrEntry.DATA, values == null ? 0 : values[i]);
        }
        return buf;
    }

    /** {@code KVM_GET_TSC_KHZ}: the guest's TSC frequency. */
    public int tscKhz() {
        return Libc.ioctl(fd, KvmIoctls.KVM_GET_TSC_KHZ, 0L);
    }

    @Override
    public void close() {
        Libc.munmap(kvmRun);
        Libc.close(fd);
    }
}
