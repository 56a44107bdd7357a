package dev.jkvm.bench;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import java.nio.file.Path;
import java.time.Duration;

/**
 * N tiny guests through jkvm's embedding API in this one JVM: each boots the debug-exit ROM, prints
 * its line and exits through port 0xf4 (status 85), as a test suite that boots a test kernel per
 * test would. The machine is jkvm's PC with its legacy devices and ACPI/MP tables but without the
 * in-kernel irqchip ({@code -machine kernel-irqchip=off}): the guest polls its UART and needs no
 * interrupt, and the C baseline's VM has none either (creating and destroying KVM's irqchip and
 * PIT costs 10-20 ms per VM in the kernel on this host, whoever asks for it).
 *
 * <pre>{@code
 * double seconds = ManyGuests.throughApi(rom, 100);   // wall time for 100 guests
 * }</pre>
 */
public final class ManyGuests {

    private ManyGuests() {
    }

    /** Boots {@code n} guests one after another; returns the wall time in seconds. */
    public static double throughApi(Path rom, int n) {
        MachineConfig config = MachineConfig.builder().firmware(BiosRom.file(rom)).serial(SerialBackend.none())
                .irqchip(false).build();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            try (Machine m = Machine.create(config)) {
                RunResult r = m.run(Duration.ofSeconds(30));
                if (r.exitStatus() != EndToEnd.DEBUG_EXIT_STATUS || !r.serial().startsWith("exiting with 0x2a")) {
                    throw new IllegalStateException("guest " + i + " ended " + r.reason() + " (" + r.message() + ")");
                }
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
