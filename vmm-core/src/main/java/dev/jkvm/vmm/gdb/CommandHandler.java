package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.abi.KvmConstants;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Answers the packets of a stopped target: registers, memory, breakpoints, threads, queries.
 * Resumes, detach and kill come back as an {@link Outcome} for the session to carry out. Owns the
 * session's debugging state: selected threads, physical-memory mode, both kinds of breakpoints.
 *
 * <pre>{@code
 * CommandHandler h = new CommandHandler(target);
 * h.handle("m1000,4")   // Reply("90909090")
 * }</pre>
 */
final class CommandHandler {

    /** The largest packet payload jkvm takes (advertised as PacketSize, in hex). */
    static final int PACKET_SIZE = 0x4000;
    /** The most bytes an {@code m} reply carries: two hex digits per byte must fit. */
    static final int MAX_READ = (PACKET_SIZE - 16) / 2;

    static final String SUPPORTED = "PacketSize=" + Integer.toHexString(PACKET_SIZE)
            + ";qXfer:features:read+;vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+";

    private static final String ERROR_SYNTAX = "E01";
    private static final String ERROR_FAULT = "E14";
    private static final String ERROR_INVALID = "E22";
    private static final String ERROR_NO_SPACE = "E28";

    private final DebugTarget target;
    private final int cpus;
    final SoftwareBreakpoints software = new SoftwareBreakpoints();
    final HardwareBreakpoints hardware = new HardwareBreakpoints();
    /** The vCPU of g/G/p/P/m/M (Hg). */
    int generalCpu;
    /** The vCPU of c/s (Hc); -1 for all. */
    int continueCpu = -1;
    /** m/M/X/Z0 on physical addresses (QEMU's PhysMemMode). */
    boolean physical;
    boolean swbreakFeature;
    boolean hwbreakFeature;
    StopEvent lastStop = new StopEvent(0, new StopReason.Paused());

    CommandHandler(DebugTarget target) {
        this.target = target;
        this.cpus = target.cpuCount();
    }

    /** The answer to one packet (the payload, run-length decoding undone). */
    Outcome handle(String packet) {
        try {
            return dispatch(packet);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return reply(ERROR_SYNTAX);
        }
    }

    /** What KVM_SET_GUEST_DEBUG gets for a vCPU under the current breakpoints. */
    GuestDebug guestDebug(boolean stepping) {
        boolean sw = !software.isEmpty();
        boolean hw = !hardware.isEmpty();
        if (!sw && !hw && !stepping) {
            return GuestDebug.OFF;
        }
        int control = KvmConstants.KVM_GUESTDBG_ENABLE
                | (sw ? KvmConstants.KVM_GUESTDBG_USE_SW_BP : 0)
                | (hw ? KvmConstants.KVM_GUESTDBG_USE_HW_BP : 0)
                | (stepping ? KvmConstants.KVM_GUESTDBG_SINGLESTEP : 0);
        long[] a = hardware.addresses();
        return new GuestDebug(control, a[0], a[1], a[2], a[3], hardware.dr7());
    }

    private Outcome dispatch(String p) {
        if (p.isEmpty()) {
            return reply("");
        }
        String rest = p.substring(1);
        return switch (p.charAt(0)) {
            case '?' -> reply(stopReply(lastStop));
            case 'g' -> reply(Hex.bytes(RegisterLayout.encode(CpuRegisters.of(target, generalCpu))));
            case 'G' -> writeAllRegisters(rest);
            case 'p' -> readRegister(rest);
            case 'P' -> writeRegister(rest);
            case 'm' -> readMemory(rest);
            case 'M' -> writeMemory(rest, false);
            case 'X' -> writeMemory(rest, true);
            case 'c', 's' -> resumeLegacy(p.charAt(0) == 's', rest);
            case 'C', 'S' -> resumeLegacy(p.charAt(0) == 'S', rest.contains(";") ? rest.substring(rest.indexOf(';') + 1) : "");
            case 'H' -> selectThread(rest);
            case 'T' -> reply(cpuOf(rest) >= 0 ? "OK" : ERROR_INVALID);
            case 'Z' -> breakpoint(rest, true);
            case 'z' -> breakpoint(rest, false);
            case 'D' -> new Outcome.Detach();
            case 'k' -> new Outcome.Kill();
            case 'q' -> query(p);
            case 'Q' -> set(p);
            case 'v' -> verbose(p);
            default -> reply("");
        };
    }

    String stopReply(StopEvent event) {
        return event.reply(swbreakFeature, hwbreakFeature);
    }

    // ---- registers

    private Outcome writeAllRegisters(String hex) {
        byte[] g = Hex.toBytes(hex);
        CpuRegisters before = CpuRegisters.of(target, generalCpu);
        RegisterLayout.decode(g, before).writeChanges(target, generalCpu, before);
        return reply("OK");
    }

    private Outcome readRegister(String hexNumber) {
        int n = (int) Hex.number(hexNumber);
        if (n < 0 || n >= RegisterLayout.registers().size()) {
            return reply(ERROR_INVALID);
        }
        return reply(Hex.bytes(RegisterLayout.read(CpuRegisters.of(target, generalCpu), RegisterLayout.registers().get(n))));
    }

    private Outcome writeRegister(String rest) {
        int eq = rest.indexOf('=');
        int n = (int) Hex.number(rest.substring(0, eq));
        if (n < 0 || n >= RegisterLayout.registers().size()) {
            return reply(ERROR_INVALID);
        }
        RegisterLayout.Register r = RegisterLayout.registers().get(n);
        byte[] value = Hex.toBytes(rest.substring(eq + 1));
        if (value.length != r.bytes()) {
            return reply(ERROR_INVALID);
        }
        CpuRegisters before = CpuRegisters.of(target, generalCpu);
        RegisterLayout.write(before, r, value).writeChanges(target, generalCpu, before);
        return reply("OK");
    }

    // ---- memory

    MemoryAccess memory() {
        return MemoryAccess.of(target, generalCpu, physical);
    }

    private Outcome readMemory(String rest) {
        int comma = rest.indexOf(',');
        long address = Hex.number(rest.substring(0, comma));
        long length = Hex.number(rest.substring(comma + 1));
        if (length == 0) {
            return reply("");
        }
        byte[] data = new byte[Long.compareUnsigned(length, MAX_READ) > 0 ? MAX_READ : (int) length];
        int n = memory().read(address, data);
        if (n <= 0) {
            return reply(ERROR_FAULT);
        }
        software.mask(physical, address, data, n);
        return reply(Hex.bytes(data, 0, n));
    }

    private Outcome writeMemory(String rest, boolean binary) {
        int comma = rest.indexOf(',');
        int colon = rest.indexOf(':');
        long address = Hex.number(rest.substring(0, comma));
        long length = Hex.number(rest.substring(comma + 1, colon));
        String body = rest.substring(colon + 1);
        byte[] data = binary ? Framing.unescape(body) : Hex.toBytes(body);
        if (data.length != length) {
            return reply(ERROR_INVALID);
        }
        if (data.length == 0) {
            return reply("OK");
        }
        if (memory().write(address, data) != data.length) {
            return reply(ERROR_FAULT);
        }
        software.rearmAfterWrite(physical, address, data, data.length);
        return reply("OK");
    }

    // ---- breakpoints

    private Outcome breakpoint(String rest, boolean insert) {
        String[] f = rest.split("[,;]");
        BreakpointKind kind = BreakpointKind.ofType(Integer.parseInt(f[0]));
        long address = Hex.number(f[1]);
        long length = Hex.number(f[2]);
        if (kind == BreakpointKind.SOFTWARE) {
            boolean ok = insert ? software.insert(memory(), physical, address) : software.remove(physical, address);
            return reply(ok ? "OK" : ERROR_FAULT);
        }
        if (insert) {
            return reply(hardware.insert(kind, address, length) ? "OK" : ERROR_NO_SPACE);
        }
        hardware.remove(kind, address, length);
        return reply("OK");
    }

    // ---- execution

    private Outcome resumeLegacy(boolean step, String address) {
        int cpu = continueCpu >= 0 ? continueCpu : generalCpu;
        if (!address.isEmpty()) {
            long rip = Hex.number(address);
            target.setRegs(cpu, target.regs(cpu).withRip(rip));
        }
        BitSet running = new BitSet();
        running.set(0, cpus);
        BitSet stepping = new BitSet();
        if (step) {
            stepping.set(cpu);
        }
        return new Outcome.Resume(running, stepping);
    }

    /** {@code vCont;action[:thread]...}: per vCPU the first action that names it (or names no thread) applies. */
    private Outcome vCont(String actions) {
        BitSet running = new BitSet();
        BitSet stepping = new BitSet();
        BitSet decided = new BitSet();
        for (String action : actions.split(";")) {
            if (action.isEmpty()) {
                continue;
            }
            int colon = action.indexOf(':');
            String verb = colon < 0 ? action : action.substring(0, colon);
            int only = colon < 0 ? -1 : cpuOf(action.substring(colon + 1));
            if (colon >= 0 && only < 0 && !isAllThreads(action.substring(colon + 1))) {
                return reply(ERROR_INVALID);
            }
            char what = verb.charAt(0);
            if ("cCsSt".indexOf(what) < 0) {
                return reply("");
            }
            for (int cpu = 0; cpu < cpus; cpu++) {
                if ((only < 0 || only == cpu) && !decided.get(cpu)) {
                    decided.set(cpu);
                    if (what != 't') {
                        running.set(cpu);
                    }
                    if (what == 's' || what == 'S') {
                        stepping.set(cpu);
                    }
                }
            }
        }
        return running.isEmpty() ? reply("OK") : new Outcome.Resume(running, stepping);
    }

    // ---- threads

    private Outcome selectThread(String rest) {
        char op = rest.charAt(0);
        String id = rest.substring(1);
        int cpu = cpuOf(id);
        boolean all = isAllThreads(id);
        if (cpu < 0 && !all && !isAnyThread(id)) {
            return reply(ERROR_INVALID);
        }
        if (op == 'g') {
            generalCpu = cpu >= 0 ? cpu : generalCpu;
        } else if (op == 'c') {
            continueCpu = cpu >= 0 ? cpu : -1;
        } else {
            return reply(ERROR_INVALID);
        }
        return reply("OK");
    }

    /** A thread id ({@code 1}, {@code p1.2}) as a vCPU index, or -1 when it names none of them. */
    int cpuOf(String id) {
        String tid = id.startsWith("p") && id.contains(".") ? id.substring(id.indexOf('.') + 1) : id;
        try {
            long n = Hex.number(tid);
            return n >= 1 && n <= cpus ? (int) n - 1 : -1;
        } catch (IllegalArgumentException e) {
            return -1;
        }
    }

    private static boolean isAllThreads(String id) {
        return id.equals("-1") || id.endsWith(".-1");
    }

    private static boolean isAnyThread(String id) {
        return id.equals("0") || id.endsWith(".0");
    }

    private static String threadId(int cpu) {
        return Hex.number(cpu + 1L, 2);
    }

    // ---- queries

    private Outcome query(String p) {
        if (p.startsWith("qSupported")) {
            swbreakFeature = p.contains("swbreak+");
            hwbreakFeature = p.contains("hwbreak+");
            return reply(SUPPORTED);
        }
        if (p.startsWith("qXfer:features:read:")) {
            return readFeatures(p.substring("qXfer:features:read:".length()));
        }
        if (p.equals("qC")) {
            return reply("QC" + threadId(generalCpu));
        }
        if (p.equals("qfThreadInfo")) {
            List<String> ids = new ArrayList<>();
            for (int cpu = 0; cpu < cpus; cpu++) {
                ids.add(threadId(cpu));
            }
            return reply("m" + String.join(",", ids));
        }
        if (p.equals("qsThreadInfo")) {
            return reply("l");
        }
        if (p.startsWith("qThreadExtraInfo,")) {
            int cpu = cpuOf(p.substring("qThreadExtraInfo,".length()));
            return reply(cpu < 0 ? ERROR_INVALID : Hex.text("CPU " + cpu));
        }
        if (p.startsWith("qAttached")) {
            return reply("1");
        }
        if (p.startsWith("qRcmd,")) {
            return monitor(new String(Hex.toBytes(p.substring("qRcmd,".length())), StandardCharsets.UTF_8));
        }
        if (p.equals("qqemu.PhysMemMode")) {
            return reply(physical ? "1" : "0");
        }
        return reply("");
    }

    private Outcome set(String p) {
        if (p.equals("QStartNoAckMode")) {
            return new Outcome.StartNoAck();
        }
        if (p.startsWith("Qqemu.PhysMemMode:")) {
            String mode = p.substring("Qqemu.PhysMemMode:".length());
            if (!mode.equals("0") && !mode.equals("1")) {
                return reply(ERROR_INVALID);
            }
            physical = mode.equals("1");
            return reply("OK");
        }
        return reply("");
    }

    private Outcome verbose(String p) {
        if (p.equals("vCont?")) {
            return reply("vCont;c;C;s;S;t");
        }
        if (p.startsWith("vCont;")) {
            return vCont(p.substring("vCont;".length()));
        }
        return reply("");
    }

    private Outcome readFeatures(String request) {
        int colon = request.indexOf(':');
        String annex = request.substring(0, colon);
        String[] range = request.substring(colon + 1).split(",");
        if (!annex.equals("target.xml")) {
            return reply("E00");
        }
        byte[] xml = TargetDescription.xml().getBytes(StandardCharsets.UTF_8);
        long offset = Hex.number(range[0]);
        long length = Hex.number(range[1]);
        if (offset > xml.length) {
            return reply(ERROR_INVALID);
        }
        int from = (int) offset;
        int to = (int) Math.min(xml.length, from + Math.min(length, PACKET_SIZE / 2));
        String chunk = new String(xml, from, to - from, StandardCharsets.ISO_8859_1);
        return reply((to == xml.length ? "l" : "m") + Framing.escape(chunk));
    }

    private Outcome monitor(String command) {
        String output;
        try {
            output = target.monitor(command.strip());
        } catch (RuntimeException e) {
            output = "error: " + e.getMessage() + "\n";
        }
        List<String> packets = new ArrayList<>();
        byte[] bytes = output == null ? new byte[0] : output.getBytes(StandardCharsets.UTF_8);
        int chunk = (PACKET_SIZE - 2) / 2;
        for (int at = 0; at < bytes.length; at += chunk) {
            packets.add("O" + Hex.bytes(bytes, at, Math.min(chunk, bytes.length - at)));
        }
        packets.add("OK");
        return new Outcome.Reply(packets);
    }

    private static Outcome reply(String packet) {
        return Outcome.Reply.of(packet);
    }
}
