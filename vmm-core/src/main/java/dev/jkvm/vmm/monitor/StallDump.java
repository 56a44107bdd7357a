package dev.jkvm.vmm.monitor;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmIoctls;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.host.KvmModule;
import dev.jkvm.vmm.trace.TraceRing;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every vCPU's state when a guest seems stuck, for a test report: first what can be seen without
 * touching the vCPUs (each thread's scheduler state and system call from {@code /proc}: asleep in
 * {@code KVM_RUN} or not), then the exits they make during a short sample (the exit-trace ring),
 * then what needs each vCPU to answer on its thread, which kicks it out of {@code KVM_RUN} once:
 * the monitor's {@code info cpus} (MP state), {@code info registers -a}, {@code info lapic} (IRR,
 * ISR, timer) and the interrupt, NMI and SIPI that KVM holds pending.
 */
public final class StallDump {

    /** Exit records shown per vCPU, the latest ones. */
    private static final int LAST_EXITS = 16;
    /** Stack bytes looked at from RSP (within the page: a kernel stack's top frames). */
    private static final int STACK_BYTES = 512;

    private StallDump() {
    }

    /**
     * The dump of {@code machine} now.
     *
     * @param sample how long to record the vCPUs' exits (zero: none)
     */
    public static String of(Machine machine, Duration sample) {
        StringBuilder sb = new StringBuilder();
        sb.append("host: KVM module ").append(KvmModule.detect().module()).append(", load average ").append(loadAverage())
                .append('\n');
        List<Vcpu> vcpus = machine.vcpus();
        sb.append("-- vCPU threads (before anything asks them) --\n");
        for (Vcpu v : vcpus) {
            sb.append(thread(v)).append('\n');
        }
        sb.append(exits(machine, vcpus, sample));
        Monitor monitor = new Monitor(machine);
        for (String command : List.of("info status", "info cpus", "info exits", "info registers -a")) {
            sb.append("-- ").append(command).append(" --\n").append(ask(monitor, command));
        }
        for (Vcpu v : vcpus) {
            sb.append("-- info lapic ").append(v.index()).append(" --\n").append(ask(monitor, "info lapic " + v.index()));
            sb.append(events(v)).append('\n');
            sb.append(stack(machine, v)).append('\n');
        }
        return sb.toString();
    }

    /**
     * The stack from RSP to the end of its page (at most {@link #STACK_BYTES}): return addresses
     * to look up, and on an interrupt stack the interrupted context's frame (RIP, CS, RFLAGS).
     */
    private static String stack(Machine machine, Vcpu v) {
        try {
            long rsp = v.call(fd -> fd.regs().rsp(), Machine.VCPU_ANSWER_TIMEOUT);
            int length = (int) Math.min(STACK_BYTES, 4096 - (rsp & 0xfff));
            ByteBuffer b = ByteBuffer.wrap(machine.readVirtual(v.index(), rsp, length)).order(ByteOrder.LITTLE_ENDIAN);
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "stack at 0x%x (%d bytes to the page's end):", rsp, length));
            for (int i = 0; b.remaining() >= 8; i++) {
                sb.append(i % 8 == 0 ? "\n  " : " ").append(String.format(Locale.ROOT, "%016x", b.getLong()));
            }
            return sb.toString();
        } catch (RuntimeException e) {
            return "stack: " + e.getMessage();
        }
    }

    private static String ask(Monitor monitor, String command) {
        try {
            return monitor.execute(command);
        } catch (RuntimeException e) {
            return "(" + command + ": " + e.getMessage() + ")\n";
        }
    }

    /** Thread id, scheduler state, and whether it sits in KVM_RUN ({@code /proc/self/task/TID/syscall}). */
    private static String thread(Vcpu v) {
        int tid = v.tid();
        if (tid == 0) {
            return String.format(Locale.ROOT, "CPU #%d: no thread (%s)", v.index(), v.state());
        }
        String task = "/proc/self/task/" + tid + "/";
        String stat = read(task + "stat");
        char state = stat.isEmpty() ? '?' : stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
        String syscall = read(task + "syscall").strip();
        String[] f = syscall.split(" ");
        String where;
        if (f.length >= 3 && f[0].equals("16") && parseHex(f[1]) == v.fd().fd() && parseHex(f[2]) == KvmIoctls.KVM_RUN) {
            where = "in KVM_RUN";
        } else if (f.length >= 1 && f[0].equals("running")) {
            where = "running (in the guest or in user space)";
        } else {
            where = "not in KVM_RUN (syscall " + syscall + ")";
        }
        return String.format(Locale.ROOT, "CPU #%d: thread_id=%d state=%c %s wchan=%s host_cpu=%d", v.index(), tid, state,
                where, read(task + "wchan").strip(), v.lastHostCpu());
    }

    /** The exits each vCPU makes during {@code sample}, per kind, and the last ones (unless a trace is recording). */
    private static String exits(Machine machine, List<Vcpu> vcpus, Duration sample) {
        if (sample.isZero() || machine.exitTrace().enabled()) {
            return "-- exits: not sampled" + (sample.isZero() ? "" : " (the exit trace records them)") + " --\n";
        }
        List<TraceRing> rings = new ArrayList<>();
        for (Vcpu v : vcpus) {
            TraceRing r = new TraceRing(4096);
            rings.add(r);
            v.traceInto(r);
        }
        try {
            Thread.sleep(sample);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            vcpus.forEach(v -> v.traceInto(null));
        }
        StringBuilder sb = new StringBuilder("-- exits in " + sample.toMillis() + " ms --\n");
        for (int i = 0; i < vcpus.size(); i++) {
            Map<String, Integer> kinds = new TreeMap<>();
            List<String> last = new ArrayList<>();
            long t0 = System.nanoTime() - sample.toNanos();
            rings.get(i).drain((head, start, exit, address) -> {
                String what = record(head, address);
                kinds.merge(what, 1, Integer::sum);
                if (last.size() == LAST_EXITS) {
                    last.removeFirst();
                }
                last.add(String.format(Locale.ROOT, "    +%.3f s %s (guest %.1f us)", (exit - t0) / 1e9, what, (exit - start) / 1e3));
            });
            sb.append(String.format(Locale.ROOT, "CPU #%d: %s%s%n", vcpus.get(i).index(), kinds.isEmpty() ? "none" : kinds,
                    rings.get(i).dropped() > 0 ? " (+" + rings.get(i).dropped() + " dropped)" : ""));
            last.forEach(l -> sb.append(l).append('\n'));
        }
        return sb.toString();
    }

    private static String record(long head, long address) {
        return switch (TraceRing.kind(head)) {
            case TraceRing.KICK -> "kick";
            case TraceRing.PAUSE -> "pause";
            default -> {
                int reason = TraceRing.reason(head);
                boolean out = (TraceRing.flags(head) & TraceRing.FLAG_OUT) != 0;
                yield switch (reason) {
                    case KvmConstants.KVM_EXIT_IO -> String.format(Locale.ROOT, "IO %s 0x%x", out ? "out" : "in", address & 0xffff);
                    case KvmConstants.KVM_EXIT_MMIO -> String.format(Locale.ROOT, "MMIO %s 0x%x", out ? "write" : "read", address);
                    default -> KvmConstants.exitReasonName(reason);
                };
            }
        };
    }

    /** What KVM holds pending for the vCPU: an interrupt to inject, an NMI, a SIPI vector (struct kvm_vcpu_events). */
    private static String events(Vcpu v) {
        try {
            ByteBuffer b = ByteBuffer.wrap(v.call(fd -> fd.vcpuEvents(), Machine.VCPU_ANSWER_TIMEOUT)).order(ByteOrder.LITTLE_ENDIAN);
            return String.format(Locale.ROOT,
                    "events: exception injected=%d nr=%d pending=%d; interrupt injected=%d nr=%d shadow=%d; nmi injected=%d pending=%d masked=%d; sipi_vector=0x%x",
                    b.get(0), b.get(1), b.get(3), b.get(8), Byte.toUnsignedInt(b.get(9)), b.get(11), b.get(12), b.get(13), b.get(14),
                    b.getInt(16));
        } catch (RuntimeException e) {
            return "events: " + e.getMessage();
        }
    }

    private static String loadAverage() {
        String s = read("/proc/loadavg").strip();
        return s.isEmpty() ? "?" : String.join(" ", List.of(s.split(" ")).subList(0, 3));
    }

    private static long parseHex(String s) {
        try {
            return Long.parseUnsignedLong(s.startsWith("0x") ? s.substring(2) : s, 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
