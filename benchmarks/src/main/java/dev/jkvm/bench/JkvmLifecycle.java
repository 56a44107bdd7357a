package dev.jkvm.bench;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import java.nio.file.Path;

/**
 * The jkvm side of the lifecycle cases, through the public embedding API only.
 *
 * <pre>{@code
 * double ns = JkvmLifecycle.vmNanos(rom, 100);      // create, run to HLT, close
 * double ns8 = JkvmLifecycle.vcpuNanos(rom, 8, 10); // create with 8 vCPUs, close
 * }</pre>
 */
public final class JkvmLifecycle {

    private JkvmLifecycle() {
    }

    /**
     * Nanoseconds per VM: {@code Machine.create} (2 MiB, one vCPU, kernel-irqchip=off), {@code run}
     * until the guest's HLT (bench-exits case 0: untouched RAM), {@code close}; {@code count} times.
     */
    public static double vmNanos(Path rom, int count) {
        MachineConfig config = JkvmExits.config(rom, false);
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            try (Machine m = Machine.create(config)) {
                RunResult r = m.run(JkvmExits.RUN_LIMIT);
                if (r.reason() != RunResult.Reason.HALTED) {
                    throw new IllegalStateException("the lifecycle guest did not halt: " + r.reason() + ": " + r.message());
                }
            }
        }
        return (double) (System.nanoTime() - t0) / count;
    }

    /**
     * Nanoseconds per machine with {@code vcpus} vCPUs (2 MiB, in-kernel irqchip, as a multi-vCPU
     * machine needs): {@code Machine.create} then {@code close}, nothing run; {@code count} times.
     */
    public static double vcpuNanos(Path rom, int vcpus, int count) {
        MachineConfig config = MachineConfig.builder().firmware(BiosRom.file(rom)).serial(SerialBackend.none())
                .memory(JkvmExits.MEMORY).cpus(vcpus).irqchip(true).build();
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Machine.create(config).close();
        }
        return (double) (System.nanoTime() - t0) / count;
    }
}
