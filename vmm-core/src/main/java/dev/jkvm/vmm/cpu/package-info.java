/**
 * The CPUs a guest sees: topology, model, and each vCPU's CPUID table, from the command line to
 * what KVM ends up holding. One step per class:
 *
 * <ol>
 * <li><b>Options</b>: {@link dev.jkvm.vmm.cpu.SmpOption} parses {@code -smp} into a
 *     {@link dev.jkvm.vmm.cpu.Topology} (APIC IDs, the one description the MP table and MADT use
 *     too); {@link dev.jkvm.vmm.cpu.CpuOption} parses {@code -cpu NAME,+feat,prop=value},
 *     checking names against {@link dev.jkvm.vmm.cpu.CpuFeatureTable} (every named bit:
 *     {@link dev.jkvm.vmm.cpu.CpuFeature} in a {@link dev.jkvm.vmm.cpu.FeatureWord}) and
 *     {@link dev.jkvm.vmm.cpu.HypervProperties}. Refusals are
 *     {@link dev.jkvm.vmm.cpu.CpuConfigException}s, one line each.</li>
 * <li><b>Model</b>: {@link dev.jkvm.vmm.cpu.CpuModels} is the registry {@code -cpu} names:
 *     the built-ins and user files, both {@code [cpudef]} text read by
 *     {@link dev.jkvm.vmm.cpu.CpudefParser} into {@link dev.jkvm.vmm.cpu.CpuModel}s (the built-ins
 *     and the feature table ahead of time, into the arrays of {@code BuiltinCpuTables}: vendor,
 *     family/model/stepping packed by {@link dev.jkvm.vmm.cpu.CpuSignature},
 *     {@link dev.jkvm.vmm.cpu.FeatureBits}, a {@link dev.jkvm.vmm.cpu.CacheModel});
 *     {@link dev.jkvm.vmm.cpu.CpuHelp} prints {@code -cpu help}.</li>
 * <li><b>Resolver</b>: {@link dev.jkvm.vmm.cpu.CpuResolver} applies the option to the model in
 *     QEMU's order and filters by what {@link dev.jkvm.vmm.cpu.HostCpuid} says KVM supports
 *     ({@code KVM_GET_SUPPORTED_CPUID} with QEMU's fix-ups), giving the settled
 *     {@link dev.jkvm.vmm.cpu.GuestCpu} and the warnings.</li>
 * <li><b>CPUID plan</b>: {@link dev.jkvm.vmm.cpu.CpuidPlan#create} looks the model up, runs the resolver and is
 *     what the machine holds; {@link dev.jkvm.vmm.cpu.CpuidBuilder} computes each vCPU's table for
 *     {@code KVM_SET_CPUID2} leaf by leaf (the cache leaves through
 *     {@link dev.jkvm.vmm.cpu.CacheEncoder} from {@link dev.jkvm.vmm.cpu.CacheInfo}s; the vCPU's
 *     session sets them).</li>
 * <li><b>Readback</b>: {@link dev.jkvm.vmm.cpu.CpuidReadback} compares the table given with what
 *     {@code KVM_GET_CPUID2} returns (kvm_pvm replaces feature bits with the host's) and words the
 *     one-line warning; {@link dev.jkvm.vmm.cpu.CpuidDecoder} reads any table back as
 *     {@code /proc/cpuinfo} flags and identity, for tests and reports.</li>
 * </ol>
 */
package dev.jkvm.vmm.cpu;
