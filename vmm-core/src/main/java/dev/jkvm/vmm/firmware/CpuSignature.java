package dev.jkvm.vmm.firmware;

/**
 * What the MP table's processor entries say about each CPU: CPUID leaf 1's EAX (family, model,
 * stepping) and EDX (feature flags). Guests only print these; the vCPUs' real CPUID is what counts,
 * so pass that when it is known.
 *
 * <pre>{@code
 * new CpuSignature(leaf1.eax(), leaf1.edx());
 * }</pre>
 *
 * @param signature CPUID.1:EAX
 * @param features CPUID.1:EDX
 */
public record CpuSignature(int signature, int features) {

    /**
     * Family 6 model 6 stepping 3 (QEMU's generic CPU) with the features every x86-64 processor has:
     * FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2.
     */
    public static final CpuSignature DEFAULT = new CpuSignature(0x0000_0663, 0x078B_FBFD);
}
