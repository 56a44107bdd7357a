package dev.jkvm.vmm;

import dev.jkvm.vmm.gdb.GdbStub;
import dev.jkvm.vmm.vcpu.DebugHook;
import java.lang.foreign.MemorySegment;

/** The GDB stub as the vCPU run loop's {@link DebugHook}. */
record GdbHook(GdbStub stub) implements DebugHook {

    @Override
    public void checkpoint(int vcpu) {
        stub.checkpoint(vcpu);
    }

    @Override
    public boolean debugExit(int vcpu, MemorySegment kvmRun) {
        return stub.debugExit(vcpu, kvmRun);
    }

    @Override
    public boolean emulationFailure(int vcpu, long linearRip) {
        return stub.emulationFailure(vcpu, linearRip);
    }

    @Override
    public void finished(int vcpu) {
        stub.vcpuFinished(vcpu);
    }
}
