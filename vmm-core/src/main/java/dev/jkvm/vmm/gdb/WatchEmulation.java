package dev.jkvm.vmm.gdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Write watchpoints for a host whose KVM single-steps but never checks data breakpoints
 * (kvm_pvm, which runs the guest in its instruction emulator): while one is set every running
 * vCPU single-steps, and after each instruction the watched bytes are compared with what they
 * held when the debugger resumed. The first vCPU to see a change reports the watchpoint, after
 * the writing instruction, as a debug register would. Read watchpoints cannot be told this way;
 * access watchpoints ({@code awatch}) stop on writes only.
 *
 * <p>The watched addresses are read through the stepping vCPU's page tables each time (its own
 * {@code KVM_GET_SREGS} and jkvm's walk), on that vCPU's thread: one more ioctl per instruction.
 *
 * <pre>{@code
 * WatchEmulation w = WatchEmulation.snapshot(slots, target);   // at resume, vCPUs held
 * StopReason hit = w.check(cpu, target);                        // vCPU thread, after each step
 * }</pre>
 */
final class WatchEmulation {

    /** One gdb watch request and what its bytes held at the last look. */
    private static final class Watched {
        final BreakpointKind kind;
        final long address;
        byte[] last;

        Watched(BreakpointKind kind, long address, byte[] last) {
            this.kind = kind;
            this.address = address;
            this.last = last;
        }
    }

    private final List<Watched> watched;

    private WatchEmulation(List<Watched> watched) {
        this.watched = watched;
    }

    /**
     * The write and access requests among {@code slots} with their bytes now (read as vCPU 0 sees
     * them), or null when there is none to emulate.
     */
    static WatchEmulation snapshot(HardwareBreakpoints.Slot[] slots, DebugTarget target) {
        List<Watched> out = new ArrayList<>();
        for (HardwareBreakpoints.Slot s : slots) {
            if (s == null || (s.kind() != BreakpointKind.WRITE && s.kind() != BreakpointKind.ACCESS)) {
                continue;
            }
            // a request split over several slots is one watch: keep it once
            boolean seen = out.stream().anyMatch(w -> w.address == s.requestAddress() && w.kind == s.kind());
            if (!seen) {
                out.add(new Watched(s.kind(), s.requestAddress(), read(target, 0, s.requestAddress(), (int) s.requestLength())));
            }
        }
        return out.isEmpty() ? null : new WatchEmulation(out);
    }

    /** Whether a request of this kind is emulated (writes are; reads cannot be seen by comparing). */
    static boolean emulates(BreakpointKind kind) {
        return kind == BreakpointKind.WRITE || kind == BreakpointKind.ACCESS;
    }

    /**
     * After one instruction of {@code cpu}: the watchpoint whose bytes changed, or null. A change
     * is reported once, to the first vCPU that sees it.
     */
    synchronized StopReason check(int cpu, DebugTarget target) {
        for (Watched w : watched) {
            byte[] now = read(target, cpu, w.address, w.last.length);
            if (!Arrays.equals(now, w.last)) {
                w.last = now;
                return new StopReason.Watchpoint(w.kind, w.address);
            }
        }
        return null;
    }

    /** The bytes at {@code address}, as many as are mapped (an unmapped tail reads as missing). */
    private static byte[] read(DebugTarget target, int cpu, long address, int length) {
        byte[] buf = new byte[length];
        int n = target.readVirtual(cpu, address, buf);
        return n == length ? buf : Arrays.copyOf(buf, n);
    }
}
