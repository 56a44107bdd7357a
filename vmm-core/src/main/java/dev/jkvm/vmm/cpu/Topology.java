package dev.jkvm.vmm.cpu;

/**
 * The processors of one machine: how many run at start ({@code cpus}), how many could
 * ({@code maxCpus}), and how they are grouped ({@code -smp} in QEMU's terms). The one description
 * the CPUID leaves, the MP table and the ACPI MADT are all derived from.
 *
 * <p>APIC IDs follow QEMU: the thread, core and die numbers each sit in a bit field as wide as
 * needed for the count (rounded up to a power of two), the package number above them; so
 * {@code -smp 6,sockets=1,cores=3,threads=2} gives APIC IDs 0,1,2,3,4,5 but {@code cores=3,
 * sockets=2} puts the second package at APIC ID 8.
 *
 * <pre>{@code
 * Topology t = new Topology(8, 8, 2, 1, 2, 2);
 * t.apicId(5);   // 5 = package 1, core 0, thread 1
 * }</pre>
 *
 * @param cpus vCPUs running at start (1..maxCpus)
 * @param maxCpus possible vCPUs = sockets * dies * cores * threads
 */
public record Topology(int cpus, int maxCpus, int sockets, int dies, int cores, int threads) {

    /** One vCPU, as QEMU's default. */
    public static final Topology SINGLE = new Topology(1, 1, 1, 1, 1, 1);

    public Topology {
        if (cpus < 1 || sockets < 1 || dies < 1 || cores < 1 || threads < 1 || maxCpus < cpus
                || (long) sockets * dies * cores * threads != maxCpus) {
            throw new IllegalArgumentException("inconsistent topology: cpus=" + cpus + " maxcpus=" + maxCpus
                    + " sockets=" + sockets + " dies=" + dies + " cores=" + cores + " threads=" + threads);
        }
    }

    /** Bits needed to number {@code count} items (0 for one): QEMU's {@code apicid_bitwidth_for_count}. */
    public static int bitsFor(int count) {
        return count <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(count - 1);
    }

    /** Width of the SMT (thread) field of an APIC ID. */
    public int threadBits() {
        return bitsFor(threads);
    }

    /** Width of the core field. */
    public int coreBits() {
        return bitsFor(cores);
    }

    /** Width of the die field. */
    public int dieBits() {
        return bitsFor(dies);
    }

    /** Where the core field starts. */
    public int coreShift() {
        return threadBits();
    }

    /** Where the die field starts. */
    public int dieShift() {
        return coreShift() + coreBits();
    }

    /** Where the package field starts. */
    public int packageShift() {
        return dieShift() + dieBits();
    }

    public int threadOf(int index) {
        return index % threads;
    }

    public int coreOf(int index) {
        return index / threads % cores;
    }

    public int dieOf(int index) {
        return index / (threads * cores) % dies;
    }

    public int packageOf(int index) {
        return index / (threads * cores * dies);
    }

    /** The APIC ID of vCPU {@code index} (0 .. maxCpus-1). */
    public int apicId(int index) {
        if (index < 0 || index >= maxCpus) {
            throw new IndexOutOfBoundsException("vCPU " + index + " of " + maxCpus);
        }
        return packageOf(index) << packageShift() | dieOf(index) << dieShift() | coreOf(index) << coreShift()
                | threadOf(index);
    }

    /** Logical processors per package ({@code dies * cores * threads}). */
    public int threadsPerPackage() {
        return dies * cores * threads;
    }

    /** The largest APIC ID of any possible vCPU. */
    public int maxApicId() {
        return apicId(maxCpus - 1);
    }
}
