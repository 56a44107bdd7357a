package dev.jkvm.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.kvm.Libc;
import dev.jkvm.kvm.testing.RequiresKvm;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.monitor.Monitor;
import dev.jkvm.vmm.stats.VcpuReport;
import dev.jkvm.vmm.vcpu.Vcpu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * vCPUs are ordinary host threads one can see, pin and stop; their exits are counted per mode.
 * The guests are the bundled ROMs: {@code spin} (prints, then loops without exits) and
 * {@code port-exits} (10 000 OUTs to an unclaimed port).
 */
@RequiresKvm
@org.junit.jupiter.api.parallel.Isolated // counts threads, descriptors, memory or time
class VcpuThreadsTest {

    /** Generous: machines here are noisy. The measured latency is reported by the benchmarks. */
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    private static MachineConfig.Builder rom(String name) {
        return MachineConfig.builder().firmware(BiosRom.bundled(name)).serial(SerialBackend.none());
    }

    private static void awaitLine(Machine m, String line) throws InterruptedException {
        assertTrue(m.serial().awaitLine(Pattern.compile(Pattern.quote(line)), Duration.ofSeconds(30)).isPresent(),
                "the guest never printed '" + line + "': " + m.serial().transcript());
    }

    @Test
    void threadNamesAndIdsMatchInfoCpus() throws Exception {
        try (Machine m = Machine.create(rom("spin").cpus(4).build())) {
            m.start();
            awaitLine(m, "spinning");
            // the BSP prints "spinning" before every AP's thread has told its id (thread_id=0 until then, on a loaded host)
            Monitor mon = new Monitor(m);
            String cpus = mon.execute("info cpus");
            for (long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                 cpus.contains("thread_id=0 ") && System.nanoTime() < giveUp; cpus = mon.execute("info cpus")) {
                Thread.sleep(10);
            }
            Matcher line = Pattern.compile("([* ]) CPU #(\\d+): thread_id=(\\d+)").matcher(cpus);
            Map<Integer, Integer> tids = new HashMap<>();
            while (line.find()) {
                int index = Integer.parseInt(line.group(2));
                tids.put(index, Integer.parseInt(line.group(3)));
                assertEquals(index == 0 ? "*" : " ", line.group(1), cpus);
            }
            assertEquals(4, tids.size(), cpus);
            for (Vcpu v : m.vcpus()) {
                int tid = tids.get(v.index());
                assertEquals(v.tid(), tid);
                // The kernel's name of the thread, as `ps -L` and `top -H` show it.
                String comm = Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).strip();
                assertEquals("CPU " + v.index() + "/KVM", comm);
            }
        }
    }

    @Test
    void affinityLandsOnTheThreadAndTheSpinningVcpuRunsThere() throws Exception {
        BitSet allowed = HostCpus.allowed();
        int target = allowed.length() - 1; // the last CPU we may use
        BitSet only = new BitSet();
        only.set(target);
        try (Machine m = Machine.create(rom("spin").vcpuAffinity(0, only).build())) {
            m.start();
            awaitLine(m, "spinning");
            int tid = m.vcpus().get(0).tid();
            assertEquals(only, Libc.schedGetaffinity(tid));
            long deadline = System.nanoTime() + PROMPTLY.toNanos();
            while (HostCpus.lastCpuOf(tid) != target && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(target, HostCpus.lastCpuOf(tid));
            assertTrue(new Monitor(m).execute("info cpus").contains("host_cpu=" + target));
        }
    }

    @Test
    void aSpinningGuestIsStoppedByQuit() throws Exception {
        try (Machine m = Machine.create(rom("spin").name("spinner").build())) {
            m.start();
            awaitLine(m, "spinning");
            Monitor monitor = new Monitor(m);
            assertEquals("spinner\n", monitor.execute("info name"));
            assertEquals("PG disabled\n", monitor.execute("info tlb"), "a real-mode guest, as QEMU says it");
            assertEquals("PG disabled\n", monitor.execute("info mem"));
            assertEquals("", monitor.execute("stop"));
            assertEquals("VM status: paused\n", monitor.execute("info status"));
            assertEquals("", monitor.execute("cont"));
            assertEquals("VM status: running\n", monitor.execute("info status"));
            monitor.execute("quit");
            RunResult r = m.run(PROMPTLY);
            assertEquals(RunResult.Reason.QUIT, r.reason());
            assertTrue(m.vcpus().get(0).lastKickLatencyNanos() >= 0);
        }
    }

    @Test
    void aSpinningGuestIsEndedByTheTimeout() {
        try (Machine m = Machine.create(rom("spin").build())) {
            RunResult r = m.run(Duration.ofSeconds(1));
            assertEquals(RunResult.Reason.TIMEOUT, r.reason());
            assertEquals(124, r.exitStatus());
        }
    }

    @Test
    void closingFromJavaReleasesEveryDescriptorAndThread() throws Exception {
        // Warm up the shared handle and the JVM's own descriptors first.
        try (Machine m = Machine.create(rom("spin").build())) {
            m.start();
        }
        awaitNoParkedVcpuThreads();
        awaitReleased();
        // KVM's descriptors only: the JVM's own (an earlier class's pipe reader, a selector's
        // eventfd) may close late, and a run in the nested VM once counted one fewer.
        java.util.Map<String, String> kvm = kvmFds();
        long threads = threadCount();
        for (int i = 0; i < 200; i++) {
            try (Machine m = Machine.create(rom("spin").cpus(2).build())) {
                m.start();
            }
        }
        awaitNoParkedVcpuThreads(); // kept for the next machine a while, then gone
        awaitReleased();
        assertEquals(kvm, kvmFds());
        assertEquals(threads, threadCount());
    }

    @Test
    void tenThousandOutsAreTenThousandUserModeExitsForThatPort() throws Exception {
        try (Machine m = Machine.create(rom("port-exits").build())) {
            RunResult r = m.run(Duration.ofSeconds(60));
            assertEquals(33, r.exitStatus(), r.message());
            VcpuReport report = m.reports().get(0);
            assertEquals(10_000, report.user().portCount(0x99, true));
            String table = new Monitor(m).execute("info exits");
            assertTrue(table.contains("port 0x0099 out") && table.matches("(?s).*port 0x0099 out\\s+10,000 .*"), table);
        }
    }

    static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** The open descriptors that name /dev/kvm or one of KVM's anonymous inodes (VMs, vCPUs, their statistics). */
    static java.util.Map<String, String> kvmFds() throws IOException {
        java.util.Map<String, String> fds = openFdTargets();
        fds.values().removeIf(target -> !target.contains("kvm"));
        return fds;
    }

    /** Each open descriptor and what it names (a file, pipe:[N], anon_inode:kvm-vm, ...). */
    static java.util.Map<String, String> openFdTargets() throws IOException {
        java.util.Map<String, String> fds = new java.util.TreeMap<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (!(target.startsWith("/proc/") && target.endsWith("/fd"))) { // the listing's own
                        fds.put(fd.getFileName().toString(), target);
                    }
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        }
        return fds;
    }

    /**
     * The descriptors open now that were not open, naming the same thing, in {@code before}: a
     * leak shows here, while one another test's cleanup closed meanwhile does not (a count did).
     */
    static java.util.Map<String, String> newFds(java.util.Map<String, String> before) throws IOException {
        java.util.Map<String, String> now = openFdTargets();
        now.entrySet().removeIf(e -> e.getValue().equals(before.get(e.getKey())));
        return now;
    }

    /**
     * Waits until every closed machine's descriptors and memory are back with the kernel (Machine.close hands them to
     * a thread of their own): a count right after a close would see them (generous bound: "does it end").
     */
    static void awaitReleased() {
        assertTrue(Machine.awaitReleased(Duration.ofSeconds(60)), "closed machines were not released");
    }

    /** The kernel's name of a vCPU thread parked for the next vCPU (vcpu.VcpuThreadPool's). */
    static final String PARKED_VCPU_THREAD = "jkvm idle vCPU";

    /**
     * Waits until no vCPU thread is parked for reuse: each ends after two seconds without a vCPU
     * (generous bound: this is "does it end", not how fast).
     */
    static void awaitNoParkedVcpuThreads() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (threads(PARKED_VCPU_THREAD::equals) > 0) {
            assertTrue(System.nanoTime() < deadline, "parked vCPU threads did not end");
            Thread.sleep(50);
        }
    }

    /**
     * The threads machines start (vCPUs, parked vCPU threads, the machine's supervisor, device
     * timers), by their kernel names: other tests' threads come and go in this JVM, these must not stay.
     */
    static long threadCount() throws IOException {
        return threads(comm -> comm.matches("CPU \\d+/KVM") || comm.startsWith("jkvm"));
    }

    private static long threads(java.util.function.Predicate<String> named) throws IOException {
        try (var s = Files.list(Path.of("/proc/self/task"))) {
            return s.filter(t -> {
                try {
                    return named.test(Files.readString(t.resolve("comm")).strip());
                } catch (IOException e) {
                    return false; // ended meanwhile
                }
            }).count();
        }
    }

    /**
     * CPUID never reaches jkvm: KVM answers it in the kernel. Where the host runs the guest in
     * hardware, each one is a VM exit KVM counts as {@code exits}; where KVM runs it in its
     * instruction emulator (kvm_pvm), it counts the emulated instructions ({@code insn_emulation})
     * instead. Either way, none of the 10 000 is a user-mode exit.
     */
    @Test
    void tenThousandCpuidsAreHandledInTheKernelNoneInUserMode() {
        try (Machine m = Machine.create(rom("cpuid-exits").stats(MachineConfig.StatsFormat.TABLE).build())) {
            RunResult r = m.run(Duration.ofSeconds(120));
            assertEquals(33, r.exitStatus(), r.message());
            VcpuReport report = r.vcpus().get(0);
            // user mode: only the console's and the debug-exit's port I/O, no other exit
            assertEquals(report.user().total(), report.user().count(dev.jkvm.kvm.abi.KvmConstants.KVM_EXIT_IO));
            assertTrue(report.user().total() < 100, "user-mode exits: " + report.user().total());
            long inKernel = Math.max(report.kernelModeExits(), report.kvmCounter("insn_emulation"));
            assertTrue(inKernel >= 10_000, "KVM handled the 10 000 CPUIDs itself: exits " + report.kernelModeExits()
                    + ", emulated instructions " + report.kvmCounter("insn_emulation"));
        }
    }
}
