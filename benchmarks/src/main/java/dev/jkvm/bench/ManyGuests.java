package dev.jkvm.bench;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.RunResult;
import dev.jkvm.vmm.SerialBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.IntToDoubleFunction;

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
 * ManyGuests.Paired p = ManyGuests.besideFloor(rom, 1000, k -> c.lifecycleNanos(floorRom, k, mem), k -> c.lifecycleNanos(rom, k, mem));
 * }</pre>
 */
public final class ManyGuests {

    /** Guests per chunk of {@link #besideFloor}, and the C VMs run beside each (at least {@link #MIN_C_VMS}). */
    static final int CHUNK = 50;
    static final int MIN_C_VMS = 20;

    private ManyGuests() {
    }

    /**
     * What {@link #besideFloor} measured in the same moments: the API's wall time for the guests, and the C VMM's
     * nanoseconds per VM for the floor and for the same ROM.
     */
    public record Paired(double apiSeconds, double floorNanosPerVm, double sameRomNanosPerVm) {
    }

    /**
     * {@code n} guests through the API in chunks of {@value #CHUNK}, each chunk beside (alternately before and after
     * it) a run of the C VMM's floor ({@code floorNanos}: nanoseconds per VM for so many VMs) and of the C VMM on the
     * same ROM ({@code sameRomNanos}), so all three see the same moments of a shared host: a floor measured once before
     * every N drifted with the other users' load (2.5x to 4x for one build). The API's time is its chunks' sum: the
     * guests are still one after another in one JVM, with the C runs (a tenth of a second) between chunks.
     */
    public static Paired besideFloor(Path rom, int n, IntToDoubleFunction floorNanos, IntToDoubleFunction sameRomNanos) {
        double api = 0;
        double floor = 0;
        double same = 0;
        int cVms = 0;
        int chunks = 0;
        for (int done = 0; done < n; done += CHUNK, chunks++) {
            int k = Math.min(CHUNK, n - done);
            int c = Math.max(k, MIN_C_VMS);
            if (chunks % 2 == 1) {
                floor += floorNanos.applyAsDouble(c) * c;
                same += sameRomNanos.applyAsDouble(c) * c;
            }
            api += throughApi(rom, k);
            if (chunks % 2 == 0) {
                floor += floorNanos.applyAsDouble(c) * c;
                same += sameRomNanos.applyAsDouble(c) * c;
            }
            cVms += c;
        }
        return new Paired(api, floor / cVms, same / cVms);
    }

    /**
     * Boots {@code n} guests one after another; returns the wall time in seconds, up to the last one's teardown (close
     * hands the VM's destruction to a thread of its own: none may overlap the C runs beside the chunk).
     */
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
        JkvmLifecycle.awaitReleased();
        return (System.nanoTime() - start) / 1e9;
    }
}
