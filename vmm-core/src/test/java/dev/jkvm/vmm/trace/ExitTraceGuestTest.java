package dev.jkvm.vmm.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import dev.jkvm.vmm.monitor.Monitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code -exit-trace} on real guests: what the guest did is what the trace shows. */
@RequiresKvm
class ExitTraceGuestTest {

    @TempDir
    Path dir;

    private static MachineConfig.Builder rom(String name) {
        return MachineConfig.builder().firmware(BiosRom.bundled(name)).serial(SerialBackend.none())
                .timeout(Duration.ofSeconds(60));
    }

    /** Runs the machine; returns the wall-clock window of the run in System.nanoTime. */
    private static long[] run(Machine m, int status) {
        long t0 = System.nanoTime();
        RunResult r = m.run();
        long t1 = System.nanoTime();
        assertEquals(status, r.exitStatus(), r.message());
        return new long[] {t0, t1};
    }

    @Test
    void tenThousandOutsAreTenThousandUserSpansForPort0x99InOrderWithinTheRun() {
        Path file = dir.resolve("port-exits.json");
        long[] window;
        try (Machine m = Machine.create(rom("port-exits").exitTrace(TraceSpec.of(file)).build())) {
            window = run(m, 33);
        }
        TraceFileReader t = TraceFileReader.read(file);
        assertEquals("jkvm: port-exits", t.processName());
        assertEquals(Map.of(1, "CPU 0/KVM"), t.threadNames());
        List<TraceFileReader.Span> outs = t.spans("user").stream().filter(s -> s.name().equals("IO out 0x99")).toList();
        assertEquals(10_000, outs.size(), "one user-mode span per out 0x99 of the guest");
        long origin = t.originNanos();
        long previousEnd = Long.MIN_VALUE;
        for (TraceFileReader.Span s : outs) {
            assertEquals(1, s.tid(), "on CPU 0/KVM");
            assertEquals("none (unclaimed port)", s.args().get("device"));
            assertTrue(s.startNanos() >= previousEnd, "in time order, not overlapping: " + s);
            previousEnd = s.endNanos();
            assertTrue(origin + s.startNanos() >= window[0] && origin + s.endNanos() <= window[1],
                    "inside the run's wall time: " + s);
        }
        // Every span of the vCPU (guest and user mode) tiles its time without overlap.
        List<TraceFileReader.Span> all = new ArrayList<>(t.spans("guest"));
        all.addAll(t.spans("user"));
        all.sort((a, b) -> Long.compare(a.startNanos(), b.startNanos()));
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).startNanos() >= all.get(i - 1).endNanos(), all.get(i - 1) + " overlaps " + all.get(i));
        }
        assertTrue(t.spans("guest").size() >= 10_000, "a KVM_RUN span before every exit");
        assertTrue(t.spans("user").stream().anyMatch(s -> s.name().equals("IO out 0xf4")
                && String.valueOf(s.args().get("device")).contains("debug-exit")), "the debug-exit write, by its device");
        assertTrue(t.markers().stream().anyMatch(n -> n.startsWith("guest end: the guest wrote 16 to the debug-exit port")),
                t.markers().toString());
        assertEquals(Boolean.FALSE, t.otherData().get("cut"));
        assertEquals(0.0, t.otherData().get("records_dropped"));
    }

    @Test
    void mmioExitsAreNamedByTheirPageWithTheAddressInTheArgs() {
        Path file = dir.resolve("mmio.json");
        try (Machine m = Machine.create(rom("bench-exits").exitTrace(TraceSpec.of(file)).build())) {
            m.writePhysical(0x8000, le32(3)); // bench-exits case 3: movl %eax -> 0xe0000000, an unclaimed page
            m.writePhysical(0x8004, le32(500));
            assertEquals(RunResult.Reason.DEBUG_EXIT, m.run().reason());
        }
        TraceFileReader t = TraceFileReader.read(file);
        List<TraceFileReader.Span> writes = t.spans("user").stream().filter(s -> s.name().equals("MMIO write 0xe0000000")).toList();
        assertEquals(500, writes.size(), "one span per store of the guest");
        for (TraceFileReader.Span s : writes) {
            assertEquals("0xe0000000", s.args().get("address"));
            assertEquals(4.0, s.args().get("size"));
            assertEquals("none (unclaimed page)", s.args().get("device"));
        }
    }

    @Test
    void anSmpKernelHasOneTrackPerVcpu() {
        Path file = dir.resolve("smp.json");
        try (Machine m = Machine.create(MachineConfig.builder().kernel("cpuinfo").cpus(2).serial(SerialBackend.none())
                .timeout(Duration.ofSeconds(120)).exitTrace(TraceSpec.of(file)).build())) {
            run(m, 33);
        }
        TraceFileReader t = TraceFileReader.read(file);
        assertEquals("jkvm: cpuinfo", t.processName());
        assertEquals(Map.of(1, "CPU 0/KVM", 2, "CPU 1/KVM"), t.threadNames());
        Set<Integer> guestTracks = t.spans("guest").stream().map(TraceFileReader.Span::tid).collect(Collectors.toSet());
        assertEquals(Set.of(1, 2), guestTracks, "both vCPUs ran in the guest");
        assertFalse(t.counter(2, "exits").isEmpty(), "KVM's counters of the application processor too");
    }

    @Test
    void aCpuidLoopIsGuestModeWithKvmsCountersRisingAndNoUserModeSpans() {
        Path file = dir.resolve("cpuid.json");
        try (Machine m = Machine.create(rom("cpuid-exits").exitTrace(TraceSpec.of(file)).build())) {
            run(m, 33);
        }
        TraceFileReader t = TraceFileReader.read(file);
        List<Long> exits = t.counter(1, "exits");
        assertTrue(exits.size() >= 3, "sampled while the loop ran: " + exits);
        for (int i = 1; i < exits.size(); i++) {
            assertTrue(exits.get(i) >= exits.get(i - 1), "a cumulative counter: " + exits);
        }
        List<Long> emulated = t.counter(1, "insn_emulation");
        assertTrue(emulated.size() >= 3, "sampled while the loop ran: " + emulated);
        for (int i = 1; i < emulated.size(); i++) {
            assertTrue(emulated.get(i) >= emulated.get(i - 1), "a cumulative counter: " + emulated);
        }
        // Each cpuid is work KVM does in kernel mode: an exit it handles (hardware virtualization)
        // or, where KVM's emulator runs real-mode code (kvm_pvm), an emulated instruction.
        long inKernel = exits.getLast() - exits.getFirst() + emulated.getLast() - emulated.getFirst();
        assertTrue(inKernel >= 10_000, "10,000 cpuid handled in KVM: exits " + exits + ", insn_emulation " + emulated);
        assertFalse(t.spans("guest").isEmpty());
        // The loop itself never reaches jkvm: the only user-mode exits are the ROM's closing
        // message on COM1 and its debug-exit write.
        Set<String> user = new TreeSet<>();
        t.spans("user").forEach(s -> user.add(s.name()));
        assertTrue(user.stream().allMatch(n -> n.startsWith("IO out 0x3f") || n.startsWith("IO in 0x3f") || n.equals("IO out 0xf4")),
                user.toString());
        assertTrue(t.spans("user").size() < 100, "no user-mode span for the 10,000 cpuid: " + t.spans("user").size());
    }

    @Test
    void theLimitCutsTheTraceAndSaysWhere() {
        Path file = dir.resolve("cut.json");
        List<String> log = new ArrayList<>();
        try (Machine m = Machine.create(rom("port-exits").exitTrace(new TraceSpec(file, 1000)).build())) {
            m.onLog(line -> {
                synchronized (log) {
                    log.add(line);
                }
            });
            run(m, 33);
        }
        TraceFileReader t = TraceFileReader.read(file);
        assertEquals(1001, t.events().size(), "the limit, and the marker that says it cut");
        assertEquals(Boolean.TRUE, t.otherData().get("cut"));
        assertTrue(t.markers().contains("trace cut: limit of 1000 events reached"), t.markers().toString());
        assertTrue((Double) t.otherData().get("records_not_written") > 9000, t.otherData().toString());
        synchronized (log) {
            assertTrue(log.stream().anyMatch(l -> l.contains("-exit-trace " + file + ": cut at the limit of 1,000 events")),
                    log.toString());
        }
    }

    @Test
    void theHtmlPageHoldsTheSameEvents() throws Exception {
        Path file = dir.resolve("port-exits.html");
        try (Machine m = Machine.create(rom("port-exits").exitTrace(TraceSpec.of(file)).build())) {
            run(m, 33);
        }
        String page = Files.readString(file);
        assertTrue(page.startsWith("<!DOCTYPE html>"), page.substring(0, 40));
        assertFalse(page.contains("http://") || page.contains("https://"), "a self-contained page: nothing from the network");
        TraceFileReader t = TraceFileReader.read(file);
        assertEquals(10_000, t.spans("user").stream().filter(s -> s.name().equals("IO out 0x99")).count());
    }

    @Test
    void theMonitorStartsFlushesAndStopsTheTraceOfALiveGuest() throws Exception {
        Path file = dir.resolve("live.json");
        try (Machine m = Machine.create(rom("bench-exits").build())) {
            m.writePhysical(0x8000, le32(1)); // bench-exits case 1: out 0x99 in a loop
            m.writePhysical(0x8004, le32(5_000_000));
            Monitor mon = new Monitor(m);
            m.start();
            assertEquals("Trace file not set (trace-file set FILE, or -exit-trace FILE)\n", mon.execute("trace-file"));
            assertEquals("", mon.execute("trace-file set " + file));
            assertEquals("", mon.execute("trace-file on"));
            assertEquals("Trace file \"" + file + "\" on.\n", mon.execute("trace-file"));
            long outs = waitForOuts(mon, file, 200);
            assertEquals("", mon.execute("trace-file off"));
            assertEquals("", mon.execute("trace-file flush"));
            long afterOff = outs(readLive(file));
            Thread.sleep(300);
            assertEquals("", mon.execute("trace-file flush"));
            long later = outs(readLive(file));
            // The one exit the vCPU was handling when the trace went off may still land.
            assertTrue(later - afterOff <= 1, "nothing recorded while off: " + afterOff + " then " + later);
            assertEquals("", mon.execute("trace-file on"));
            waitForOuts(mon, file, afterOff + 200);
            TraceFileReader t = readLive(file);
            assertTrue(t.markers().containsAll(List.of("trace-file off", "trace-file on")), t.markers().toString());
            assertFalse(t.counter(1, "exits").isEmpty(), "KVM's counters, opened on the live vCPU");
            assertTrue(mon.execute("trace-file bogus").startsWith("Error: trace-file on|off|flush|set FILE"));
            mon.execute("quit");
            m.run(Duration.ofSeconds(30));
            assertTrue(mon.execute("trace-file on").startsWith("Error: the guest has ended"));
        }
        TraceFileReader end = TraceFileReader.read(file);
        assertTrue(end.markers().stream().anyMatch(n -> n.startsWith("guest end: quit from the monitor")), end.markers().toString());
    }

    @Test
    void aFileThatCannotBeWrittenIsOneLineBeforeTheGuestRuns() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int status = dev.jkvm.vmm.Main.run(new String[] {"-serial", "none", "-exit-trace", "/nonexistent/dir/t.json"},
                new java.io.PrintStream(new java.io.ByteArrayOutputStream()), new java.io.PrintStream(err));
        String text = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, status, text);
        assertEquals("jkvm: -exit-trace /nonexistent/dir/t.json: cannot write: no such directory", text.strip());
    }

    private static long waitForOuts(Monitor mon, Path file, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            assertEquals("", mon.execute("trace-file flush"));
            long n = outs(readLive(file));
            if (n >= atLeast || System.nanoTime() > deadline) {
                assertTrue(n >= atLeast, n + " user-mode spans for port 0x99 so far");
                return n;
            }
            Thread.sleep(50);
        }
    }

    /**
     * The file of a live trace: complete between the writer's writes, so a read that meets one in
     * progress is read again.
     */
    private static TraceFileReader readLive(Path file) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return TraceFileReader.read(file);
            } catch (IllegalArgumentException e) {
                if (attempt == 5) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    private static long outs(TraceFileReader t) {
        return t.spans("user").stream().filter(s -> s.name().equals("IO out 0x99")).count();
    }

    private static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }
}
