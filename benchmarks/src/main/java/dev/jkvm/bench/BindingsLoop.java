package dev.jkvm.bench;

import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.VcpuExit;
import dev.jkvm.kvm.VcpuFd;
import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.vmm.SharedKvm;
import dev.jkvm.vmm.board.Layout;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.memory.MemoryMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * bench-exits.rom on jkvm's lower layers only: kvm-bindings ({@code VmFd}, {@code VcpuFd.run()})
 * and vmm-core's {@code GuestMemory}, with the C baseline's loop written in Java on the calling
 * thread: no {@code Machine}, no vCPU thread, no buses, no counters.
 *
 * <p>Two uses: the HLT case, which a {@code Machine} cannot run (without an irqchip jkvm ends the
 * run at the first HLT, so there is no "HLT, resume" round trip to time), and the floor under
 * jkvm's run loop: what FFM itself costs per exit, against which the Machine's extra cost shows.
 *
 * <pre>{@code
 * ExitRun r = BindingsLoop.run(rom, BenchGuest.HLT, 100_000);
 * }</pre>
 */
public final class BindingsLoop {

    private BindingsLoop() {
    }

    public static ExitRun run(Path rom, int kase, int n) {
        byte[] image;
        try {
            image = Files.readAllBytes(rom);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Kvm kvm = SharedKvm.get();
        MemoryMap map = MemoryMap.pc(JkvmExits.MEMORY, image.length);
        try (GuestMemory memory = new GuestMemory(map, image); VmFd vm = kvm.createVm()) {
            vm.setTssAddr(Layout.TSS);
            if (vm.checkExtension(KvmConstants.KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
                vm.setIdentityMapAddr(Layout.IDENTITY_MAP);
            }
            memory.register(vm);
            try (VcpuFd cpu = vm.createVcpu(0)) {
                cpu.setCpuid(kvm.supportedCpuid());
                memory.write(BenchGuest.PARAM_CASE, BenchGuest.le32(kase));
                memory.write(BenchGuest.PARAM_N, BenchGuest.le32(n));
                long t0 = System.nanoTime();
                long exits = loop(cpu);
                long t1 = System.nanoTime();
                if (BenchGuest.le32(memory.read(BenchGuest.RESULT_DONE, 4)) != BenchGuest.DONE_MAGIC) {
                    throw new IllegalStateException("bench-exits case " + kase + " did not finish on the bindings loop");
                }
                return new ExitRun(n, BenchGuest.le64(memory.read(BenchGuest.RESULT_TSC, 8)), t1 - t0, exits);
            }
        }
    }

    /** Runs until the guest writes to port 0xf4; HLT resumes, unclaimed reads return all ones. */
    private static long loop(VcpuFd cpu) {
        VcpuExit exit = cpu.exit();
        long exits = 0;
        while (true) {
            int reason = cpu.run();
            if (reason == VcpuFd.INTERRUPTED) {
                continue;
            }
            exits++;
            switch (reason) {
                case KvmConstants.KVM_EXIT_IO -> {
                    VcpuExit.Io io = exit.io();
                    boolean out = io.out();
                    if (out && io.port() == Layout.DEBUG_EXIT) {
                        return exits;
                    }
                    if (!out) {
                        for (int i = 0, n = io.count(); i < n; i++) {
                            io.setData(i, -1);
                        }
                    }
                }
                case KvmConstants.KVM_EXIT_MMIO -> {
                    if (!exit.mmio().write()) {
                        exit.mmio().setData(-1L);
                    }
                }
                case KvmConstants.KVM_EXIT_HLT -> {
                    // resume: the round trip being measured
                }
                default -> throw new IllegalStateException("unexpected exit " + KvmConstants.exitReasonName(reason));
            }
        }
    }
}
