package dev.jkvm.vmm.snapshot;

import dev.jkvm.devices.PcTestdev;
import dev.jkvm.devices.PciTestdev;
import dev.jkvm.kvm.CpuidEntry;
import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.JkvmException;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.memory.DirtyLog;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.Vcpu;
import dev.jkvm.vmm.vcpu.VmSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Snapshot and in-place restore of one machine: the vCPUs' and the VM's KVM state, the devices,
 * and the memory, of which a restore copies back only the pages KVM's dirty log saw the guest
 * write since the memory last equalled the snapshot. Lock order: this object, then the machine's
 * session lock (taken by pause and resume).
 */
public final class MachineSnapshots implements AutoCloseable {

    private final Machine machine;
    private final Kvm kvm;
    private final Supplier<VmSession> session;
    private final PcTestdev pcTestdev;
    private final PciTestdev pciTestdev;
    private final Consumer<String> log;
    /** The dirty-page log of the session it was started on, and the snapshot the memory equalled at its last look. */
    private DirtyLog dirtyLog;
    private VmSession dirtyLogSession;
    private Snapshot memoryBase;
    /** The MSRs KVM lists and reads on this host, found at the first snapshot. */
    private int[] savedMsrs;
    private final Set<Integer> refusedMsrs = ConcurrentHashMap.newKeySet();
    private volatile RestoreStats lastRestore;
    private volatile VcpuState.Capabilities capabilities;

    /** @param pcTestdev, pciTestdev the optional test devices, null when the machine has none */
    public MachineSnapshots(Machine machine, Kvm kvm, Supplier<VmSession> session, PcTestdev pcTestdev,
                            PciTestdev pciTestdev, Consumer<String> log) {
        this.machine = machine;
        this.kvm = kvm;
        this.session = session;
        this.pcTestdev = pcTestdev;
        this.pciTestdev = pciTestdev;
        this.log = log;
    }

    /** See {@link Machine#snapshot()}. */
    public synchronized Snapshot snapshot() {
        boolean wasPaused = machine.paused();
        if (!wasPaused && !machine.pause()) {
            machine.resume();
            throw new JkvmException("snapshot: not every vCPU stopped within " + Machine.VCPU_ANSWER_TIMEOUT.toMillis() + " ms");
        }
        try {
            VmSession s = session.get();
            MachineConfig config = machine.config();
            GuestMemory memory = machine.memory();
            List<VcpuState> cpus = new ArrayList<>();
            VcpuState.Capabilities caps = capabilities(s);
            int[] msrs = savedMsrs(s);
            for (Vcpu v : s.vcpus()) {
                List<CpuidEntry> table = machine.cpuid().entriesFor(v.index());
                cpus.add(onVcpu(v, (fd, settle) -> VcpuState.read(fd, msrs, caps, settle, table)));
            }
            VmState vm = VmState.read(s.vm(), config.irqchip());
            var devs = machine.devices().saveState();
            dirtyLogFor(s).clear();
            memory.clearHostWrites();
            OptionalDevices optional = new OptionalDevices(
                    pcTestdev == null ? List.of() : List.of(pcTestdev.saveState()),
                    pciTestdev == null ? List.of() : List.of(pciTestdev.saveState()));
            Snapshot snap = new Snapshot(MachineDescription.of(config), memory.capture(), cpus, vm, devs, optional);
            memoryBase = snap;
            return snap;
        } finally {
            if (!wasPaused) {
                machine.resume();
            }
        }
    }

    /** See {@link Machine#restore(Snapshot)}. */
    public synchronized void restore(Snapshot snapshot) {
        VmSession s = session.get();
        checkCompatible(snapshot, capabilities(s));
        RunResult end = machine.result().orElse(null);
        if (end != null) {
            throw new IllegalStateException("restore: the run has ended (" + end.message()
                    + "); Machine.create(config, snapshot) starts a new machine from it");
        }
        boolean wasPaused = machine.paused();
        if (!wasPaused && !machine.pause()) {
            machine.resume();
            throw new JkvmException("restore: not every vCPU stopped within " + Machine.VCPU_ANSWER_TIMEOUT.toMillis() + " ms");
        }
        try {
            GuestMemory memory = machine.memory();
            long t0 = System.nanoTime();
            long pages;
            boolean dirtyOnly = dirtyLog != null && dirtyLogSession == s && memoryBase == snapshot
                    && !memory.hostWrites() && !memory.romWritable();
            if (dirtyOnly) {
                pages = dirtyLog.restoreDirty(snapshot.memory());
            } else {
                dirtyLogFor(s).clear();
                memory.clearHostWrites();
                pages = memory.restoreAll(snapshot.memory());
            }
            memoryBase = snapshot;
            snapshot.vm().writeTo(s.vm());
            List<Vcpu> vcpus = s.vcpus();
            for (int i = 0; i < vcpus.size(); i++) {
                VcpuState st = snapshot.vcpus().get(i);
                onVcpu(vcpus.get(i), (fd, settle) -> {
                    st.writeTo(fd, this::msrRefused, settle);
                    return null;
                });
            }
            machine.devices().restoreState(snapshot.devices());
            if (pcTestdev != null) {
                pcTestdev.restoreState(snapshot.optional().pcTestdev().getFirst());
            }
            if (pciTestdev != null) {
                pciTestdev.restoreState(snapshot.optional().pciTestdev().getFirst());
            }
            lastRestore = new RestoreStats(pages, dirtyOnly, System.nanoTime() - t0);
        } finally {
            if (!wasPaused) {
                machine.resume();
            }
        }
    }

    /**
     * Runs {@code f} with vCPU {@code v}'s descriptor: on this thread when the vCPU is parked with
     * its last instruction complete (no handoff), else on the vCPU's thread, told whether to
     * settle an exit in flight first.
     */
    private static <T> T onVcpu(Vcpu v, BiFunction<VcpuFd, Boolean, T> f) {
        if (v.parkedIdle()) {
            return f.apply(v.fd(), false);
        }
        boolean ran = v.state() != Vcpu.State.NEW;
        return v.call(fd -> f.apply(fd, ran), Machine.VCPU_ANSWER_TIMEOUT);
    }

    /** How the last restore went, or null before the first. */
    public RestoreStats lastRestore() {
        return lastRestore;
    }

    /** The MSRs KVM took on save but refused on restore (this host's KVM cannot restore them), sorted. */
    public List<Integer> refusedMsrs() {
        return refusedMsrs.stream().sorted().toList();
    }

    private void msrRefused(int index) {
        if (refusedMsrs.add(index)) {
            log.accept(String.format("jkvm: restore: KVM refused MSR 0x%x (its value is not restored)", index));
        }
    }

    /** Refuses a snapshot of another machine before anything is changed. */
    private void checkCompatible(Snapshot snapshot, VcpuState.Capabilities caps) {
        MachineConfig config = machine.config();
        snapshot.machine().mismatch(MachineDescription.of(config)).ifPresent(m -> {
            throw new JkvmException("the snapshot is of another machine: " + m);
        });
        machine.memory().mismatch(snapshot.memory()).ifPresent(m -> {
            throw new JkvmException("the snapshot is of another machine: " + m);
        });
        if (snapshot.vcpus().size() != config.topology().cpus()) {
            throw new JkvmException("the snapshot holds " + snapshot.vcpus().size() + " vCPUs, the machine has "
                    + config.topology().cpus());
        }
        for (int i = 0; i < snapshot.vcpus().size(); i++) {
            if (!snapshot.vcpus().get(i).cpuid().equals(machine.cpuid().entriesFor(i))) {
                throw new JkvmException("the snapshot's vCPU " + i + " has another CPUID than this machine's"
                        + " (another host's CPU, or another jkvm's CPU model)");
            }
        }
        if (snapshot.optional().pcTestdev().size() != (pcTestdev == null ? 0 : 1)
                || snapshot.optional().pciTestdev().size() != (pciTestdev == null ? 0 : 1)) {
            throw new JkvmException("the snapshot is of another machine: its test devices differ");
        }
        try {
            snapshot.vm().validate(config.irqchip());
            for (VcpuState v : snapshot.vcpus()) {
                v.validate(caps);
            }
        } catch (IllegalArgumentException e) {
            throw new JkvmException("the snapshot cannot be restored on this host: " + e.getMessage());
        }
    }

    private VcpuState.Capabilities capabilities(VmSession s) {
        VcpuState.Capabilities c = capabilities;
        if (c == null) {
            c = capabilities = new VcpuState.Capabilities(s.vm().checkExtension(KvmConstants.KVM_CAP_XSAVE) > 0,
                    s.vm().checkExtension(KvmConstants.KVM_CAP_XCRS) > 0, machine.config().irqchip());
        }
        return c;
    }

    /** The MSRs of KVM's list that vCPU 0 reads here (KVM_GET_MSRS stops at the first it cannot). */
    private int[] savedMsrs(VmSession s) {
        if (savedMsrs == null) {
            List<Integer> list = new ArrayList<>();
            for (int i : kvm.msrIndexList()) {
                list.add(i);
            }
            savedMsrs = s.vcpus().getFirst().call(fd -> {
                List<Integer> ok = new ArrayList<>(list);
                while (true) {
                    int[] idx = ok.stream().mapToInt(Integer::intValue).toArray();
                    int n = fd.msrs(idx).length;
                    if (n == idx.length) {
                        return idx;
                    }
                    ok.remove(n);
                }
            }, Machine.VCPU_ANSWER_TIMEOUT);
        }
        return savedMsrs;
    }

    /** The dirty log of session {@code s}, started on first use (a reset's new VM gets a new one). */
    private DirtyLog dirtyLogFor(VmSession s) {
        if (dirtyLog == null || dirtyLogSession != s) {
            if (dirtyLog != null) {
                dirtyLog.close();
            }
            dirtyLog = machine.memory().startDirtyLog(s.vm());
            dirtyLogSession = s;
            memoryBase = null;
        }
        return dirtyLog;
    }

    /** Stops the dirty log (before the memory it watches is unmapped). */
    @Override
    public synchronized void close() {
        if (dirtyLog != null) {
            dirtyLog.close();
            dirtyLog = null;
        }
    }
}
