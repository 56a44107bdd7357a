package dev.jkvm.vmm.cpu;

import dev.jkvm.kvm.CpuidEntry;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The CPUs of one machine, ready for KVM: the settled {@link GuestCpu}, the warnings to print
 * once, and each vCPU's CPUID table for {@code KVM_SET_CPUID2}. The entry point for the machine.
 *
 * <pre>{@code
 * Topology topology = SmpOption.parse("4,sockets=2,cores=2");
 * CpuModels models = CpuModels.builtin().withFile(Path.of("cpus.conf"));
 * CpuidPlan plan = CpuidPlan.create(CpuOption.parse("Westmere,+x2apic", models), models, topology,
 *         kvm.supportedCpuid());
 * plan.warnings().forEach(System.err::println);
 * for (int i = 0; i < topology.cpus(); i++) {
 *     vcpu[i].setCpuid(plan.entriesFor(i));
 * }
 * }</pre>
 */
public final class CpuidPlan {

    private final GuestCpu cpu;
    private final Topology topology;
    private final List<String> warnings;
    private final CpuidBuilder builder;
    private final boolean fromHost;
    /** Each vCPU's table, built when first asked for (machines of one configuration share a plan, resets ask again). */
    private final AtomicReferenceArray<List<CpuidEntry>> tables;

    private CpuidPlan(GuestCpu cpu, Topology topology, List<String> warnings, CpuidBuilder builder, boolean fromHost) {
        this.tables = new AtomicReferenceArray<>(topology.maxCpus());
        this.cpu = cpu;
        this.fromHost = fromHost;
        this.topology = topology;
        this.warnings = List.copyOf(warnings);
        this.builder = builder;
    }

    /**
     * Resolves {@code option} against {@code models} and the host's supported CPUID (the VM is
     * assumed to have an in-kernel irqchip).
     *
     * @throws CpuConfigException for an unknown model, or {@code enforce} with missing features
     */
    public static CpuidPlan create(CpuOption option, CpuModels models, Topology topology,
            List<CpuidEntry> supported) {
        return create(option, models, topology, HostCpuid.of(supported), false);
    }

    /**
     * As {@link #create(CpuOption, CpuModels, Topology, List)}, with the host described in full.
     *
     * @param hostVendor show built-in models with the host's vendor, as QEMU does under KVM
     */
    public static CpuidPlan create(CpuOption option, CpuModels models, Topology topology, HostCpuid host,
            boolean hostVendor) {
        CpuModel model = models.require(option.model());
        CpuResolver.Result r = CpuResolver.resolve(option, model, host, topology, hostVendor);
        return new CpuidPlan(r.cpu(), topology, r.warnings(), new CpuidBuilder(r.cpu(), topology, host),
                model.kind().fromHost());
    }

    /** What the guest sees. */
    public GuestCpu cpu() {
        return cpu;
    }

    /** Whether the model takes its identity and features from the host ({@code host}, {@code max}). */
    public boolean fromHost() {
        return fromHost;
    }

    /** The processors and their APIC IDs. */
    public Topology topology() {
        return topology;
    }

    /** One line per requested feature the host lacks, in QEMU's words; print them once. */
    public List<String> warnings() {
        return warnings;
    }

    /** The CPUID entries of vCPU {@code index} (0 .. maxCpus-1). */
    public List<CpuidEntry> entriesFor(int index) {
        List<CpuidEntry> t = tables.get(index);
        if (t == null) {
            t = builder.entriesFor(index); // immutable: two threads that both build it get equal tables
            tables.set(index, t);
        }
        return t;
    }

    /** The APIC ID of vCPU {@code index}. */
    public int apicId(int index) {
        return topology.apicId(index);
    }
}
