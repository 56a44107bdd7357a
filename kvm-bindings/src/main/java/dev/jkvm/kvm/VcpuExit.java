package dev.jkvm.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmRun;
import java.lang.foreign.MemorySegment;

/**
 * The exit {@code KVM_RUN} last returned, read in place from the vCPU's {@code kvm_run} mapping:
 * kvm-ioctls' {@code VcpuExit}, as a flyweight. One view per vCPU ({@link VcpuFd#exit()}) and one
 * preallocated sub-view per exit kind, whose accessors read the mapped page at the generated
 * {@link KvmRun} offsets: handling an exit allocates nothing (C1 does not scalar-replace, so a
 * record per exit would be garbage per exit).
 *
 * <pre>{@code
 * VcpuExit exit = cpu.exit();
 * switch (cpu.run()) {
 *     case KVM_EXIT_IO -> { VcpuExit.Io io = exit.io(); if (io.out()) bus.write(io.port(), io.size(), io.data(0)); }
 *     case KVM_EXIT_MMIO -> { VcpuExit.Mmio m = exit.mmio(); if (!m.write()) m.setData(bus.read(m.address(), m.length())); }
 * }
 * }</pre>
 *
 * <p>A sub-view means something only while {@link #reason()} is its exit (they share the union of
 * {@code kvm_run}), and only on the vCPU's thread until the next {@code KVM_RUN}.
 */
public final class VcpuExit {

    private final MemorySegment run;
    private final Io io;
    private final Mmio mmio;
    private final SystemEvent systemEvent;
    private final Debug debug;
    private final Internal internal;
    private final FailEntry failEntry;

    /**
     * A view of {@code run}: the vCPU's mapping, or (in tests) any segment laid out as
     * {@code struct kvm_run}.
     */
    public VcpuExit(MemorySegment run) {
        if (run.byteSize() < KvmRun.SIZEOF) {
            throw new IllegalArgumentException("kvm_run needs " + KvmRun.SIZEOF + " bytes, got " + run.byteSize());
        }
        this.run = run;
        this.io = new Io(run);
        this.mmio = new Mmio(run);
        this.systemEvent = new SystemEvent(run);
        this.debug = new Debug(run);
        this.internal = new Internal(run);
        this.failEntry = new FailEntry(run);
    }

    /** {@code exit_reason}: a {@code KVM_EXIT_*} value. */
    public int reason() {
        return run.get(JAVA_INT, KvmRun.EXIT_REASON);
    }

    /** {@code KVM_EXIT_IO}. */
    public Io io() {
        return io;
    }

    /** {@code KVM_EXIT_MMIO}. */
    public Mmio mmio() {
        return mmio;
    }

    /** {@code KVM_EXIT_SYSTEM_EVENT}. */
    public SystemEvent systemEvent() {
        return systemEvent;
    }

    /** {@code KVM_EXIT_DEBUG}. */
    public Debug debug() {
        return debug;
    }

    /** {@code KVM_EXIT_INTERNAL_ERROR}. */
    public Internal internal() {
        return internal;
    }

    /** {@code KVM_EXIT_FAIL_ENTRY}. */
    public FailEntry failEntry() {
        return failEntry;
    }

    /**
     * {@code kvm_run.io}: an IN or OUT, or a string instruction's {@link #count()} items of
     * {@link #size()} bytes each, whose data sits in the page at {@code data_offset}.
     */
    public static final class Io {

        private final MemorySegment run;

        private Io(MemorySegment run) {
            this.run = run;
        }

        /** Whether the guest wrote ({@code KVM_EXIT_IO_OUT}) rather than read. */
        public boolean out() {
            return run.get(JAVA_BYTE, KvmRun.IO_DIRECTION) == KvmConstants.KVM_EXIT_IO_OUT;
        }

        /** The access size in bytes: 1, 2 or 4. */
        public int size() {
            return run.get(JAVA_BYTE, KvmRun.IO_SIZE);
        }

        /** The port, 0-0xffff. */
        public int port() {
            return Short.toUnsignedInt(run.get(JAVA_SHORT, KvmRun.IO_PORT));
        }

        /** How many items the instruction moves (more than 1 for {@code rep outsb/insb}). */
        public int count() {
            return run.get(JAVA_INT, KvmRun.IO_COUNT);
        }

        /** Item {@code i} (0 .. count-1) an OUT writes, zero-extended. */
        public int data(int i) {
            int size = size();
            long at = dataAt(i, size);
            return switch (size) {
                case 1 -> Byte.toUnsignedInt(run.get(JAVA_BYTE, at));
                case 2 -> Short.toUnsignedInt(run.get(JAVA_SHORT_UNALIGNED, at));
                default -> run.get(JAVA_INT_UNALIGNED, at);
            };
        }

        /** Sets item {@code i} (0 .. count-1) an IN reads; only its low {@link #size()} bytes count. */
        public void setData(int i, int value) {
            int size = size();
            long at = dataAt(i, size);
            switch (size) {
                case 1 -> run.set(JAVA_BYTE, at, (byte) value);
                case 2 -> run.set(JAVA_SHORT_UNALIGNED, at, (short) value);
                default -> run.set(JAVA_INT_UNALIGNED, at, value);
            }
        }

        private long dataAt(int i, int size) {
            return run.get(JAVA_LONG, KvmRun.IO_DATA_OFFSET) + (long) i * size;
        }
    }

    /** {@code kvm_run.mmio}: one access of 1-8 bytes to an address no memory slot backs. */
    public static final class Mmio {

        private final MemorySegment run;

        private Mmio(MemorySegment run) {
            this.run = run;
        }

        /** The guest-physical address. */
        public long address() {
            return run.get(JAVA_LONG, KvmRun.MMIO_PHYS_ADDR);
        }

        /** The access length in bytes, 1-8. */
        public int length() {
            return run.get(JAVA_INT, KvmRun.MMIO_LEN);
        }

        /** Whether the guest wrote rather than read. */
        public boolean write() {
            return run.get(JAVA_BYTE, KvmRun.MMIO_IS_WRITE) != 0;
        }

        /** The value a write stores: the low {@link #length()} bytes of {@code data}, little-endian. */
        public long data() {
            return run.get(JAVA_LONG_UNALIGNED, KvmRun.MMIO_DATA) & mask();
        }

        /** Sets the value a read returns; bytes above {@link #length()} are cleared. */
        public void setData(long value) {
            run.set(JAVA_LONG_UNALIGNED, KvmRun.MMIO_DATA, value & mask());
        }

        private long mask() {
            int len = length();
            return len >= 8 ? -1L : (1L << (8 * len)) - 1;
        }
    }

    /** {@code kvm_run.system_event}: the guest asked for a power-off, a reset or a crash. */
    public static final class SystemEvent {

        private final MemorySegment run;

        private SystemEvent(MemorySegment run) {
            this.run = run;
        }

        /** {@code KVM_SYSTEM_EVENT_*}. */
        public int type() {
            return run.get(JAVA_INT, KvmRun.SYSTEM_EVENT_TYPE);
        }

        /** How many of {@link #data(int)}'s words are valid (0 from kernels before 5.18's ndata). */
        public int ndata() {
            return run.get(JAVA_INT, KvmRun.SYSTEM_EVENT_NDATA);
        }

        /** Word {@code i} (0-15) of {@code data}; word 0 is the older {@code flags}. */
        public long data(int i) {
            return run.get(JAVA_LONG, KvmRun.SYSTEM_EVENT_DATA + 8L * checkIndex(i, KvmRun.SYSTEM_EVENT_DATA_LENGTH));
        }
    }

    /** {@code kvm_run.debug.arch}: a #DB or #BP that {@code KVM_SET_GUEST_DEBUG} asked to see. */
    public static final class Debug {

        private final MemorySegment run;

        private Debug(MemorySegment run) {
            this.run = run;
        }

        /** The vector: 1 (#DB) or 3 (#BP). */
        public int exception() {
            return run.get(JAVA_INT, KvmRun.DEBUG_ARCH_EXCEPTION);
        }

        /** The linear RIP. */
        public long pc() {
            return run.get(JAVA_LONG, KvmRun.DEBUG_ARCH_PC);
        }

        /** DR6: which slot hit, or single step. */
        public long dr6() {
            return run.get(JAVA_LONG, KvmRun.DEBUG_ARCH_DR6);
        }

        /** DR7 as KVM had it. */
        public long dr7() {
            return run.get(JAVA_LONG, KvmRun.DEBUG_ARCH_DR7);
        }
    }

    /** {@code kvm_run.internal}: KVM could not go on (emulation failure, double event, ...). */
    public static final class Internal {

        private final MemorySegment run;

        private Internal(MemorySegment run) {
            this.run = run;
        }

        /** {@code KVM_INTERNAL_ERROR_*}. */
        public int suberror() {
            return run.get(JAVA_INT, KvmRun.INTERNAL_SUBERROR);
        }

        /** How many of {@link #data(int)}'s words KVM filled. */
        public int ndata() {
            return run.get(JAVA_INT, KvmRun.INTERNAL_NDATA);
        }

        /** Word {@code i} (0-15) of {@code data}. */
        public long data(int i) {
            return run.get(JAVA_LONG, KvmRun.INTERNAL_DATA + 8L * checkIndex(i, KvmRun.INTERNAL_DATA_LENGTH));
        }
    }

    /** {@code kvm_run.fail_entry}: the hardware refused to enter the guest. */
    public static final class FailEntry {

        private final MemorySegment run;

        private FailEntry(MemorySegment run) {
            this.run = run;
        }

        /** {@code hardware_entry_failure_reason} (VMX: the exit reason with bit 31 set). */
        public long hardwareReason() {
            return run.get(JAVA_LONG, KvmRun.FAIL_ENTRY_HARDWARE_ENTRY_FAILURE_REASON);
        }

        /** The host CPU the entry failed on. */
        public int cpu() {
            return run.get(JAVA_INT, KvmRun.FAIL_ENTRY_CPU);
        }
    }

    private static int checkIndex(int i, long length) {
        if (i < 0 || i >= length) {
            throw new IndexOutOfBoundsException("data word " + i + " of " + length);
        }
        return i;
    }
}
