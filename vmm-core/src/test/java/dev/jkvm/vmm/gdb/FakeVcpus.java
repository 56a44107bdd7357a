package dev.jkvm.vmm.gdb;

import dev.jkvm.kvm.Regs;
import dev.jkvm.kvm.abi.KvmConstants;

/**
 * vCPU threads for a {@link FakeTarget} that follow the real run loop's contract with the stub:
 * checkpoint before every "KVM_RUN", then one instruction: 0x90 (nop) advances RIP, 0xF4 (hlt)
 * waits for a kick, 0xCC with KVM_GUESTDBG_USE_SW_BP is a #BP exit (RIP stays on it), a
 * debug-register execute slot matching RIP is a #DB exit, and single-step is a #DB exit with
 * DR6.BS after the instruction.
 */
final class FakeVcpus implements AutoCloseable {

    private final FakeTarget target;
    private final GdbStub stub;
    private final Thread[] threads;
    private final boolean[] kicked;
    private volatile boolean stopping;

    FakeVcpus(FakeTarget target, GdbStub stub) {
        this.target = target;
        this.stub = stub;
        this.threads = new Thread[target.cpuCount()];
        this.kicked = new boolean[target.cpuCount()];
        target.kicker = this::kick;
    }

    FakeVcpus start() {
        for (int i = 0; i < threads.length; i++) {
            int cpu = i;
            threads[i] = Thread.ofPlatform().daemon().name("CPU " + i + "/fake").start(() -> loop(cpu));
        }
        return this;
    }

    private void loop(int cpu) {
        try {
            while (!stopping) {
                stub.checkpoint(cpu);
                if (stopping) {
                    break;
                }
                execute(cpu);
            }
        } finally {
            stub.finished(cpu);
        }
    }

    private void execute(int cpu) {
        GuestDebug debug = target.guestDebug(cpu);
        Regs r = target.regs(cpu);
        long rip = r.rip();
        byte[] op = new byte[1];
        if (target.readVirtual(cpu, rip, op) != 1) {
            waitForKick(cpu); // nothing sensible to run: sit like a halted vCPU
            return;
        }
        if (op[0] == (byte) 0xCC && (debug.control() & KvmConstants.KVM_GUESTDBG_USE_SW_BP) != 0) {
            stub.debugExit(cpu, 3, rip, 0);
            return;
        }
        long hit = executeSlotHit(debug, rip);
        if (hit != 0) {
            stub.debugExit(cpu, 1, rip, hit);
            return;
        }
        if (op[0] == (byte) 0xF4) {
            waitForKick(cpu);
            return;
        }
        target.setRegs(cpu, r.withRip(rip + 1));
        if (debug.singleStep()) {
            stub.debugExit(cpu, 1, rip + 1, GuestDebug.ExceptionVector.DR6_BS);
        }
    }

    /** The DR6 bit of an enabled execute slot at {@code rip}, or 0. */
    private static long executeSlotHit(GuestDebug debug, long rip) {
        if ((debug.control() & KvmConstants.KVM_GUESTDBG_USE_HW_BP) == 0) {
            return 0;
        }
        long[] dr = debug.debugreg();
        for (int n = 0; n < 4; n++) {
            boolean enabled = (debug.dr7() >> (2 * n) & 3) != 0;
            boolean execute = (debug.dr7() >> (16 + 4 * n) & 3) == 0;
            if (enabled && execute && dr[n] == rip) {
                return 1L << n;
            }
        }
        return 0;
    }

    private void kick(int cpu) {
        synchronized (kicked) {
            kicked[cpu] = true;
            kicked.notifyAll();
        }
    }

    private void waitForKick(int cpu) {
        synchronized (kicked) {
            while (!kicked[cpu] && !stopping) {
                try {
                    kicked.wait();
                } catch (InterruptedException e) {
                    return;
                }
            }
            kicked[cpu] = false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        synchronized (kicked) {
            kicked.notifyAll();
        }
        stub.guestExited(0);
        for (Thread t : threads) {
            if (t != null) {
                t.join();
            }
        }
    }
}
