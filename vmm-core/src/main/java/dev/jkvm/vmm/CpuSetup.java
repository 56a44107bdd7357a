package dev.jkvm.vmm;

import dev.jkvm.vmm.cpu.CpuModels;
import dev.jkvm.vmm.cpu.CpuOption;
import dev.jkvm.vmm.cpu.CpuidPlan;
import dev.jkvm.vmm.cpu.CpuidReadback;
import dev.jkvm.vmm.cpu.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * A machine's CPUs as its configuration resolved them: the {@code -cpu} option, the CPUID plan, and
 * (once the first machine's vCPU was asked) what KVM kept of it and the warnings. Machines of one
 * process whose CPU configuration is equal (model and properties, {@code -smp}, irqchip) share one:
 * resolving the model anew was ~0.15 ms of a tiny machine's creation (JFR), for the same answer
 * from the same KVM. Only the built-in models are cached: a {@code -readconfig} file or one in the
 * default folder may change between two machines. 16 configurations are kept.
 */
final class CpuSetup {

    /**
     * What the resolution depends on besides the model files, compared field by field: a record's
     * hashCode goes through ObjectMethods, ~0.03 ms of every machine's lookup (JFR).
     */
    private static final class Key {
        private final String cpu;
        private final int[] topology;
        private final boolean irqchip;

        Key(String cpu, Topology t, boolean irqchip) {
            this.cpu = cpu;
            this.topology = new int[] {t.cpus(), t.maxCpus(), t.sockets(), t.dies(), t.cores(), t.threads()};
            this.irqchip = irqchip;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && cpu.equals(k.cpu) && Arrays.equals(topology, k.topology) && irqchip == k.irqchip;
        }

        @Override
        public int hashCode() {
            return (cpu.hashCode() * 31 + Arrays.hashCode(topology)) * 2 + (irqchip ? 1 : 0);
        }
    }

    /** The default model folder of this process (its environment and home do not change). */
    private static final class UserFolder {
        static final Path PATH = CpuModels.defaultFolder(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    private static final ShapeCache<Key, CpuSetup> RESOLVED = new ShapeCache<>(16);

    private final CpuOption option;
    private final CpuidPlan plan;
    private volatile CpuidReadback readback;
    private volatile List<String> warnings;

    private CpuSetup(CpuOption option, CpuidPlan plan) {
        this.option = option;
        this.plan = plan;
    }

    /** The setup an equal configuration resolved before, or null (then resolve it and {@link #remember} it). */
    static CpuSetup cached(MachineConfig config) {
        return cacheable(config) ? RESOLVED.find(() -> key(config)) : null;
    }

    /** The setup of {@code config}, just resolved: kept for the next equal configuration when only built-in models count. */
    static CpuSetup remember(MachineConfig config, CpuOption option, CpuidPlan plan) {
        CpuSetup s = new CpuSetup(option, plan);
        return cacheable(config) ? RESOLVED.keep(() -> key(config), s) : s;
    }

    private static Key key(MachineConfig config) {
        return new Key(config.cpu(), config.topology(), config.irqchip());
    }

    /** Whether only the built-in models can be meant: no -readconfig, nothing in the default folder. */
    private static boolean cacheable(MachineConfig config) {
        return config.readConfig().isEmpty() && (!config.userConfig() || !Files.isDirectory(UserFolder.PATH));
    }

    CpuOption option() {
        return option;
    }

    CpuidPlan plan() {
        return plan;
    }

    /** What KVM kept of the plan's CPUID (the same for every vCPU given the same table): read once, by {@code read}. */
    CpuidReadback readback(Supplier<CpuidReadback> read) {
        CpuidReadback r = readback;
        if (r == null) {
            r = read.get();
            readback = r;
        }
        return r;
    }

    /** The CPUID warnings, found once by {@code find}. */
    List<String> warnings(Supplier<List<String>> find) {
        List<String> w = warnings;
        if (w == null) {
            w = List.copyOf(find.get());
            warnings = w;
        }
        return w;
    }
}
