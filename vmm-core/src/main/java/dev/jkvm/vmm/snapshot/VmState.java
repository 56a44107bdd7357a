package dev.jkvm.vmm.snapshot;

import dev.jkvm.kvm.VmFd;
import dev.jkvm.kvm.abi.KvmClockData;
import dev.jkvm.kvm.abi.KvmConstants;
import dev.jkvm.kvm.abi.KvmIrqchip;
import dev.jkvm.kvm.abi.KvmPitState2;

/**
 * What KVM holds for the VM as a whole: the two i8259 PICs and the I/O APIC, the i8254 PIT and
 * kvmclock, each as KVM lays it out; all empty for a machine without the in-kernel irqchip.
 */
public record VmState(byte[] picMaster, byte[] picSlave, byte[] ioapic, byte[] pit, byte[] clock) {

    /**
     * Checks every struct's size against this host's ABI.
     *
     * @throws IllegalArgumentException saying which part is wrong
     */
    public void validate(boolean irqchip) {
        if (clock.length != KvmClockData.SIZEOF) {
            throw new IllegalArgumentException("kvmclock of " + clock.length + " bytes, not " + KvmClockData.SIZEOF);
        }
        long chips = irqchip ? KvmIrqchip.SIZEOF : 0;
        long pitSize = irqchip ? KvmPitState2.SIZEOF : 0;
        if (picMaster.length != chips || picSlave.length != chips || ioapic.length != chips || pit.length != pitSize) {
            throw new IllegalArgumentException("interrupt controller state of " + picMaster.length + "/" + picSlave.length
                    + "/" + ioapic.length + "/" + pit.length + " bytes, not " + chips + "/" + chips + "/" + chips + "/" + pitSize);
        }
    }

    /** The state of {@code vm} (its vCPUs stopped). */
    public static VmState read(VmFd vm, boolean irqchip) {
        if (!irqchip) {
            return new VmState(new byte[0], new byte[0], new byte[0], new byte[0], vm.clock());
        }
        return new VmState(vm.irqchip(KvmConstants.KVM_IRQCHIP_PIC_MASTER), vm.irqchip(KvmConstants.KVM_IRQCHIP_PIC_SLAVE),
                vm.irqchip(KvmConstants.KVM_IRQCHIP_IOAPIC), vm.pit2(), vm.clock());
    }

    /** Puts the state into {@code vm}: kvmclock goes on from the saved time. */
    public void writeTo(VmFd vm) {
        if (picMaster.length > 0) {
            vm.setIrqchip(picMaster);
            vm.setIrqchip(picSlave);
            vm.setIrqchip(ioapic);
            vm.setPit2(pit);
        }
        vm.setClock(clock);
    }
}
