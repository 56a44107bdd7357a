package dev.jkvm.bench;

import dev.jkvm.vmm.BiosRom;
import dev.jkvm.vmm.Machine;
import dev.jkvm.vmm.MachineConfig;
import dev.jkvm.vmm.SerialBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CPU overcommit (section 2.3 of the KVM textbook chapter): bench-smp.rom's spinlock workload on
 * {@code k} single-vCPU machines side by side, and on one machine with {@code k} vCPUs. Every vCPU
 * loops: take the lock, increment the shared counter, release, private work, count its progress.
 * The host reads the progress counters from guest RAM at the start and the end of a fixed interval.
 *
 * <pre>{@code
 * double perSecond = Overcommit.oneGuest(rom, 16, Duration.ofSeconds(2), Duration.ofMillis(300));
 * }</pre>
 */
public final class Overcommit {

    private Overcommit() {
    }

    static MachineConfig config(Path rom, int vcpus) {
        return MachineConfig.builder().firmware(BiosRom.file(rom)).serial(SerialBackend.none())
                .memory(JkvmExits.MEMORY).cpus(vcpus).irqchip(true).build();
    }

    /** Lock rounds per second, summed over {@code k} one-vCPU machines running at once. */
    public static double separateGuests(Path rom, int k, Duration interval, Duration warmUp) {
        List<Machine> machines = new ArrayList<>();
        try {
            for (int i = 0; i < k; i++) {
                machines.add(Machine.create(config(rom, 1)));
            }
            return measure(machines, 1, interval, warmUp);
        } finally {
            machines.forEach(Machine::close);
        }
    }

    /** Lock rounds per second, summed over the {@code k} vCPUs of one machine. */
    public static double oneGuest(Path rom, int k, Duration interval, Duration warmUp) {
        try (Machine m = Machine.create(config(rom, k))) {
            return measure(List.of(m), k, interval, warmUp);
        }
    }

    private static double measure(List<Machine> machines, int vcpusEach, Duration interval, Duration warmUp) {
        machines.forEach(Machine::start);
        JkvmExits.sleep(warmUp.toMillis());
        long before = progress(machines, vcpusEach);
        long t0 = System.nanoTime();
        JkvmExits.sleep(interval.toMillis());
        long after = progress(machines, vcpusEach);
        long t1 = System.nanoTime();
        for (Machine m : machines) {
            if (m.ended()) {
                throw new IllegalStateException("an overcommit guest ended: " + m.result().map(r -> r.message()).orElse("?"));
            }
        }
        return (after - before) / ((t1 - t0) / 1e9);
    }

    /** The sum of every vCPU's progress counter (u32 each, read as unsigned). */
    private static long progress(List<Machine> machines, int vcpusEach) {
        long sum = 0;
        for (Machine m : machines) {
            byte[] b = m.readPhysical(BenchGuest.SMP_PROGRESS, vcpusEach * BenchGuest.SMP_STRIDE);
            for (int i = 0; i < vcpusEach; i++) {
                sum += BenchGuest.le32(Arrays.copyOfRange(b, i * BenchGuest.SMP_STRIDE, i * BenchGuest.SMP_STRIDE + 4)) & 0xffff_ffffL;
            }
        }
        return sum;
    }
}
