package dev.jkvm.vmm.vcpu;

import dev.jkvm.devices.MmioBus;
import dev.jkvm.devices.PortBus;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.KvmException;
import dev.jkvm.kvm.KvmStats;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.host.HostCpus;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.stats.VcpuCounters;
import dev.jkvm.vmm.stats.VcpuReport;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One power-on of the machine: a KVM VM with its in-kernel interrupt controllers and PIT (unless
 * the machine has none: then HLT exits to jkvm and ends the run), the
 * machine's memory registered in it, and its vCPUs with their threads. A reset ends the session and
 * the machine starts a new one over the same memory and devices, as Cloud Hypervisor does: a fresh
 * VM is the one reset state KVM guarantees.
 *
 * <p>Owns the VM and vCPU descriptors; {@link #close()} stops the threads and releases them.
 */
public final class VmSession implements AutoCloseable {

    private final VmFd vm;
    private final RunControl control = new RunControl();
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<KvmStats> stats = new ArrayList<>();
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final AtomicInteger irqCallsInFlight = new AtomicInteger();
    private volatile boolean closing;
    private boolean noStats;
    private KvmStats vmStats;
    private final boolean irqchip;
    /** KVM's buffering of COM ports' output, or null (no KVM_CAP_COALESCED_PIO, no such device). */
    private PostedPio posted;

    /**
     * Creates the VM and its vCPUs (nothing runs yet).
     *
     * @param counters one per vCPU index, kept by the machine across sessions
     */
    public VmSession(Kvm kvm, GuestMemory memory, PortBus ports, MmioBus mmio, CpuidPlan cpuid,
                     List<VcpuCounters> counters, Map<Integer, BitSet> affinity, boolean irqchip, DebugHook debug) {
        this.irqchip = irqchip;
        try {
            vm = own(kvm.createVm());
            vm.setTssAddr(Layout.TSS);
            if (vm.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
                vm.setIdentityMapAddr(Layout.IDENTITY_MAP);
            }
            // Memory before the interrupt controllers: once those exist, every slot change waits
            // for KVM to synchronise with them (measured here: 6-7 ms instead of 0.5 ms).
            memory.register(vm);
            if (irqchip) {
                // The interrupt controllers and the PIT live in the kernel; application processors
                // then wait for the BSP's INIT/SIPI, as on a PC.
                vm.createIrqchip();
                routeIsaIrqsAsTheTablesSay(vm);
                vm.createPit2(KvmConstants.KVM_PIT_SPEAKER_DUMMY);
            }
            for (int i = 0; i < cpuid.topology().cpus(); i++) {
                int apicId = cpuid.apicId(i);
                VcpuFd fd = own(vm.createVcpu(apicId));
                fd.setCpuid(cpuid.entriesFor(i));
                stats.add(null); // opened when first asked for, on the vCPU's thread: most runs never look
                vcpus.add(new Vcpu(i, apicId, fd, ports, mmio, memory, control, counters.get(i), affinity.get(i), debug));
            }
            posted = PostedPio.open(vm, vcpus.getFirst().fd(), ports);
            if (posted != null) {
                for (Vcpu v : vcpus) {
                    v.post(posted);
                }
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * KVM's default routes send GSI 0 (the PIT's) to I/O APIC pin 0, but the MADT and MP table
     * say, as on every PC, that ISA IRQ0 arrives at GSI 2: Linux, which skips its timer check
     * under KVM, then programs pin 2 and never sees a PIT tick (a guest that relies on the PIT,
     * as its tick broadcast does, stalls). So, as QEMU and kvmtool route it: GSI 0 to pin 2 of
     * the I/O APIC and pin 0 of the master PIC, GSI 2 (the cascade) to neither, and every other
     * ISA GSI to its own pins; GSIs 16-23 to the I/O APIC only.
     */
    private static void routeIsaIrqsAsTheTablesSay(VmFd vm) {
        int n = 15 + 23; // the PICs' 15 inputs and the I/O APIC's 23, neither with the cascade's GSI 2
        int[] gsis = new int[n];
        int[] chips = new int[n];
        int[] pins = new int[n];
        int r = 0;
        for (int gsi = 0; gsi < 16; gsi++) {
            if (gsi != 2) {
                gsis[r] = gsi;
                chips[r] = gsi < 8 ? KvmConstants.KVM_IRQCHIP_PIC_MASTER : KvmConstants.KVM_IRQCHIP_PIC_SLAVE;
                pins[r++] = gsi % 8;
            }
        }
        for (int gsi = 0; gsi < 24; gsi++) {
            if (gsi != 2) {
                gsis[r] = gsi;
                chips[r] = KvmConstants.KVM_IRQCHIP_IOAPIC;
                pins[r++] = gsi == 0 ? 2 : gsi;
            }
        }
        vm.setIrqchipRouting(gsis, chips, pins);
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    /**
     * On the vCPU's own thread: KVM_GET_STATS_FD is a vCPU ioctl, which waits for KVM_RUN to return,
     * and a guest that spins without exits never returns by itself.
     */
    private KvmStats openStats(Vcpu vcpu) {
        try {
            return own(vcpu.call(VcpuFd::stats, Duration.ofSeconds(2)));
        } catch (KvmException e) {
            return null; // a KVM without binary statistics (before Linux 5.14): kernel mode is then not shown
        }
    }

    /** The VM descriptor (for the state a snapshot saves; the session owns and closes it). */
    public VmFd vm() {
        return vm;
    }

    /** The run's end and pauses. */
    public RunControl control() {
        return control;
    }

    /** The vCPUs, by index. */
    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /**
     * KVM's statistics of vCPU {@code index} (opened on first use, on the vCPU's own thread: a
     * running vCPU is kicked out of {@code KVM_RUN}, whose mutex {@code KVM_GET_STATS_FD} needs), or
     * null when KVM has none or the session closed.
     */
    public synchronized KvmStats stats(int index) {
        if (closing) {
            return null;
        }
        KvmStats s = stats.get(index);
        if (s == null && !noStats) {
            s = openStats(vcpus.get(index));
            if (s == null) {
                noStats = true;
            } else {
                stats.set(index, s);
            }
        }
        return s;
    }

    /**
     * Refreshes vCPU {@code index}'s statistics, if something opened them already, and hands them
     * to {@code reader} while the session cannot close them; false when there are none.
     */
    public synchronized boolean readOpenStats(int index, Consumer<KvmStats> reader) {
        KvmStats s = closing ? null : stats.get(index);
        if (s == null) {
            return false;
        }
        synchronized (s) {
            try {
                s.refresh();
            } catch (KvmException e) {
                return false;
            }
            reader.accept(s);
        }
        return true;
    }

    /** KVM's statistics of the VM itself (opened on first use), or null when KVM has none or the session closed. */
    public synchronized KvmStats vmStats() {
        if (closing || noStats) {
            return null;
        }
        if (vmStats == null) {
            try {
                vmStats = own(vm.stats());
            } catch (KvmException e) {
                noStats = true;
            }
        }
        return vmStats;
    }

    /** KVM's statistics of vCPU {@code index} when something opened them already, else null. */
    public synchronized KvmStats statsIfOpen(int index) {
        return closing ? null : stats.get(index);
    }

    /**
     * {@code KVM_IRQ_LINE}, from any thread (devices raise lines from vCPU, input and timer
     * threads). Lock-free, and safe against {@link #close()}: a call that races with it is dropped
     * rather than sent to a descriptor number the kernel may already have given to something else.
     */
    public void irqLine(int irq, boolean level) {
        if (!irqchip) {
            return; // no interrupt controller: a device's line goes nowhere
        }
        irqCallsInFlight.incrementAndGet();
        try {
            if (!closing) {
                vm.irqLine(irq, level);
            }
        } finally {
            irqCallsInFlight.decrementAndGet();
        }
    }

    /**
     * Each vCPU's three modes now (or as they ended): exits in user and kernel mode, guest time.
     *
     * @param kvmStats also read KVM's counters (opening its statistics files if nobody did yet)
     */
    public List<VcpuReport> reports(boolean kvmStats) {
        List<VcpuReport> out = new ArrayList<>();
        for (Vcpu v : vcpus) {
            KvmStats st = kvmStats ? stats(v.index()) : statsIfOpen(v.index());
            Map<String, Long> kvmCounters = Map.of();
            if (st != null) {
                synchronized (st) {
                    try {
                        kvmCounters = st.read();
                    } catch (KvmException e) {
                        // the session closed meanwhile
                    }
                }
            }
            out.add(new VcpuReport(v.index(), v.threadName(), v.threadId(), v.counters().snapshot(), kvmCounters, v.times()));
        }
        return out;
    }

    /** Starts every vCPU thread. */
    public void start() {
        for (Vcpu v : vcpus) {
            v.start();
        }
    }

    /** Waits for the end (null: no limit); returns the result, or null if the time passed first. */
    public RunResult await(Duration timeout) throws InterruptedException {
        return control.await(timeout);
    }

    /**
     * Waits up to {@code timeout} for every vCPU thread to be done with its vCPU, which happens only
     * once the run has ended: the watching thread then wakes once, when the last one is, instead of
     * at the end and again for the join (each wake-up waits for a CPU on a loaded host). Returns the
     * run's result when the run has ended, whether or not every thread was done in time, else null.
     */
    public RunResult awaitVcpusDone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Vcpu v : vcpus) {
            if (!v.joinNanos(deadline - System.nanoTime())) {
                break;
            }
        }
        return control.result();
    }

    /**
     * Whether every vCPU sits halted with interrupts disabled (or never got its INIT/SIPI): nothing
     * but another processor could wake such a guest, and none is awake.
     */
    public boolean allHaltedForGood(Duration answerTimeout) {
        if (control.pauseRequested()) {
            return false; // a stopped machine is not a halted guest
        }
        // Only a machine whose every vCPU thread sleeps (in KVM, in the guest's HLT or waiting for
        // SIPI) can be halted for good: running vCPUs are not kicked to be asked. Kicks are cheap,
        // but each is an exit the guest did not make, and emulated hosts (QEMU's SVM) were seen to
        // mishandle interrupts around such exits.
        for (Vcpu v : vcpus) {
            int tid = v.tid();
            if (tid == 0 || !HostCpus.asleep(tid)) {
                return false;
            }
        }
        for (Vcpu v : vcpus) {
            try {
                if (!v.probeDeadHalt(answerTimeout)) {
                    return false;
                }
            } catch (IllegalStateException e) {
                return false; // it ended or did not answer: look again next time
            }
        }
        return true;
    }

    /**
     * Waits, at most {@code timeout} in all, for every vCPU thread to end (after the run ended: each
     * has been kicked out of the guest); returns those still running, so no caller waits for ever.
     */
    public List<Vcpu> joinVcpus(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Vcpu> stuck = new ArrayList<>();
        for (Vcpu v : vcpus) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (!v.join(left)) {
                stuck.add(v);
            }
        }
        return stuck;
    }

    /** Ends the run, stops and joins the vCPU threads, releases every descriptor. Idempotent. */
    @Override
    public void close() {
        try {
            stop().run();
        } catch (RuntimeException e) {
            throw new IllegalStateException("closing the VM", e);
        }
    }

    /**
     * {@link #close()} but for the descriptors: the run ended, every vCPU thread done with its vCPU, no interrupt line
     * in flight and none to come. Returns what closes the descriptors (the vCPUs' and their statistics', the VM's last),
     * which nothing of this session touches any more, for any thread to run once; it throws the first failure after
     * closing the rest. Idempotent: a second call gets nothing to close.
     */
    public Runnable stop() {
        control.end(RunResult.of(RunResult.Reason.CLOSED, 1, "the machine was closed"));
        boolean interrupted = false;
        for (Vcpu v : vcpus) {
            while (v.state() == Vcpu.State.RUNNING) {
                try {
                    v.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (posted != null) {
            posted.close(); // the last posted bytes, before the run's end is reported; the ring is unmapped below
        }
        synchronized (this) {
            closing = true; // no statistics file opened after this, so the list below is complete
        }
        while (irqCallsInFlight.get() != 0) {
            Thread.onSpinWait();
        }
        List<AutoCloseable> descriptors = new ArrayList<>(owned); // in pop order: the last opened first
        owned.clear();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return () -> closeAll(descriptors);
    }

    private static void closeAll(List<AutoCloseable> descriptors) {
        RuntimeException failure = null;
        for (AutoCloseable d : descriptors) {
            try {
                d.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
