package dev.jkvm.vmm.stats;

import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.host.ThreadTimes;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints {@link VcpuReport}s for people ({@code info exits}, {@code -stats}) and as JSON
 * ({@code -stats json}).
 */
public final class StatsFormatter {

    /** KVM counters shown under kernel mode, in this order, when KVM has them. */
    private static final List<String> KERNEL_COUNTERS = List.of("halt_exits", "irq_exits", "insn_emulation",
            "pf_fixed", "pf_guest", "hypercalls", "request_irq_exits", "irq_window_exits", "nmi_window_exits",
            "signal_exits", "halt_wakeup");

    private StatsFormatter() {
    }

    /** The three modes per vCPU, as a few aligned lines each. */
    public static String table(List<VcpuReport> reports) {
        StringBuilder sb = new StringBuilder();
        for (VcpuReport r : reports) {
            UserModeStats u = r.user();
            sb.append(String.format(Locale.ROOT, "%s (vCPU %d, tid %d)%n", r.threadName(), r.index(), r.tid()));
            sb.append(String.format(Locale.ROOT, "  user mode    %,12d exits reached jkvm%n", u.total()));
            for (UserModeStats.ByReason br : u.reasons()) {
                sb.append(String.format(Locale.ROOT, "    %-22s %,12d  %s avg%n", br.name(), br.count(), avg(br.nanos(), br.count())));
            }
            for (UserModeStats.ByPort p : u.ports()) {
                String port = p.port() < 0 ? "other ports" : String.format(Locale.ROOT, "port 0x%04x %s", p.port(), p.out() ? "out" : "in");
                sb.append(String.format(Locale.ROOT, "      %-20s %,12d  %s avg%n", port, p.count(), avg(p.nanos(), p.count())));
            }
            for (UserModeStats.ByPage p : u.mmio()) {
                String page = p.page() < 0 ? "other pages" : String.format(Locale.ROOT, "mmio 0x%x %s", p.page(), p.write() ? "write" : "read");
                sb.append(String.format(Locale.ROOT, "      %-20s %,12d  %s avg%n", page, p.count(), avg(p.nanos(), p.count())));
            }
            if (r.kvm().isEmpty()) {
                sb.append("  kernel mode  KVM offers no statistics file on this host (KVM_GET_STATS_FD)\n");
            } else {
                // user + kernel = KVM's exits, exactly; the counters below are KVM's events, not a split of them.
                sb.append(String.format(Locale.ROOT, "  kernel mode  %,12d exits handled in KVM (%,d VM exits in all, less the %,d"
                        + " that reached jkvm)%n", r.kernelModeExits(), r.kvmCounter("exits"), u.total() - r.uncountedUserExits()));
                if (r.uncountedUserExits() > 0) {
                    sb.append(String.format(Locale.ROOT, "    (%,d exits reached jkvm that KVM did not count as VM exits)%n",
                            r.uncountedUserExits()));
                }
                sb.append(String.format(Locale.ROOT, "    %-22s %,12d%n", "io (in-kernel)", r.kernelModeIoExits()));
                sb.append(String.format(Locale.ROOT, "    %-22s %,12d%n", "mmio (in-kernel)", r.kernelModeMmioExits()));
                for (String name : KERNEL_COUNTERS) {
                    long v = r.kvmCounter(name);
                    if (v > 0) {
                        sb.append(String.format(Locale.ROOT, "    %-22s %,12d%n", name, v));
                    }
                }
            }
            sb.append("  guest mode   ").append(guestLine(r.times())).append('\n');
            sb.append(String.format(Locale.ROOT, "  wall time    %s in KVM_RUN, %s outside it (%,d kicks)%n",
                    seconds(u.nanosInKvmRun()), seconds(u.nanosOutside()), u.interruptions()));
        }
        return sb.toString();
    }

    private static String guestLine(ThreadTimes t) {
        if (t == null) {
            return "thread ended: no times";
        }
        if (t.guestAccounted()) {
            return String.format(Locale.ROOT, "%s guest time (system %s, user %s)", seconds(t.guestNanos()),
                    seconds(t.systemNanos()), seconds(t.userNanos()));
        }
        return String.format(Locale.ROOT, "not accounted separately by this host: guest time is charged as system "
                + "time (system %s, user %s)", seconds(t.systemNanos()), seconds(t.userNanos()));
    }

    private static String avg(long nanos, long count) {
        if (count == 0) {
            return "-";
        }
        double us = nanos / 1000.0 / count;
        return String.format(Locale.ROOT, "%.2f us", us);
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3f s", nanos / 1e9);
    }

    /** The same, as one JSON document: {@code {"vcpus":[...]}}. */
    public static String json(List<VcpuReport> reports) {
        StringBuilder sb = new StringBuilder("{\"vcpus\":[");
        for (int i = 0; i < reports.size(); i++) {
            VcpuReport r = reports.get(i);
            UserModeStats u = r.user();
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"index\":").append(r.index()).append(",\"thread\":\"").append(r.threadName())
                    .append("\",\"tid\":").append(r.tid());
            sb.append(",\"user_mode\":{\"exits\":").append(u.total()).append(",\"by_reason\":{");
            for (int j = 0; j < u.reasons().size(); j++) {
                UserModeStats.ByReason br = u.reasons().get(j);
                sb.append(j > 0 ? "," : "").append('"').append(br.name()).append("\":{\"count\":").append(br.count())
                        .append(",\"nanos\":").append(br.nanos()).append('}');
            }
            sb.append("},\"ports\":[");
            for (int j = 0; j < u.ports().size(); j++) {
                UserModeStats.ByPort p = u.ports().get(j);
                sb.append(j > 0 ? "," : "").append("{\"port\":").append(p.port()).append(",\"direction\":\"")
                        .append(p.out() ? "out" : "in").append("\",\"count\":").append(p.count()).append(",\"nanos\":")
                        .append(p.nanos()).append('}');
            }
            sb.append("],\"mmio\":[");
            for (int j = 0; j < u.mmio().size(); j++) {
                UserModeStats.ByPage p = u.mmio().get(j);
                sb.append(j > 0 ? "," : "").append("{\"page\":").append(p.page()).append(",\"direction\":\"")
                        .append(p.write() ? "write" : "read").append("\",\"count\":").append(p.count())
                        .append(",\"nanos\":").append(p.nanos()).append('}');
            }
            sb.append("]},\"kernel_mode\":{\"exits\":").append(r.kernelModeExits()).append(",\"kvm\":{");
            int j = 0;
            for (Map.Entry<String, Long> e : r.kvm().entrySet()) {
                sb.append(j++ > 0 ? "," : "").append('"').append(e.getKey()).append("\":").append(e.getValue());
            }
            sb.append("}},\"guest_mode\":");
            ThreadTimes t = r.times();
            if (t == null) {
                sb.append("null");
            } else {
                sb.append("{\"accounted\":").append(t.guestAccounted()).append(",\"guest_nanos\":").append(t.guestNanos())
                        .append(",\"system_nanos\":").append(t.systemNanos()).append(",\"user_nanos\":")
                        .append(t.userNanos()).append('}');
            }
            sb.append(",\"nanos_in_kvm_run\":").append(u.nanosInKvmRun()).append(",\"nanos_outside\":")
                    .append(u.nanosOutside()).append(",\"kicks\":").append(u.interruptions()).append('}');
        }
        return sb.append("]}").toString();
    }

    static String reasonName(int reason) {
        return KvmConstants.exitReasonName(reason);
    }
}
