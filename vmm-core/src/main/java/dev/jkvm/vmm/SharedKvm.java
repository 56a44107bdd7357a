package dev.jkvm.vmm;

import dev.jkvm.kvm.Kvm;
import dev.jkvm.kvm.KvmUnavailableException;

/**
 * The one {@code /dev/kvm} handle every machine of this JVM shares, opened on first use and kept
 * for the life of the process (so its supported-CPUID answer is asked once). Besides it, machines
 * share only what no guest can change: ROM files' bytes ({@code RomFiles}), the firmware tables of
 * one shape ({@link BoardShape}), resolved CPUs ({@link CpuSetup}) and parked vCPU threads.
 */
public final class SharedKvm {

    private SharedKvm() {
    }

    private static final class Holder {
        static final Kvm KVM = open();

        private static Kvm open() {
            try {
                return Kvm.open();
            } catch (KvmUnavailableException e) {
                return null; // reported by get(), every time it is asked
            }
        }
    }

    /**
     * The shared handle.
     *
     * @throws JkvmException with the one-line reason when KVM cannot be opened
     */
    public static Kvm get() {
        Kvm kvm = Holder.KVM;
        if (kvm == null) {
            try {
                Kvm.open().close(); // repeat the attempt for its message
            } catch (KvmUnavailableException e) {
                throw new JkvmException(e.getMessage(), e);
            }
            throw new JkvmException("/dev/kvm could not be opened when jkvm first tried; it can now: restart jkvm");
        }
        return kvm;
    }
}
