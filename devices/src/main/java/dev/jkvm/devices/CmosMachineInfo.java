package dev.jkvm.devices;

/**
 * What the CMOS tells firmware about the machine: RAM below and above 4 GiB, and the number of CPUs.
 * {@link CmosRtc} stores it in the bytes QEMU's PC machine uses, which SeaBIOS and some test kernels
 * read.
 *
 * <p>The split of RAM around the PCI hole is the machine's memory map, so the caller passes both
 * parts (QEMU's i440FX puts everything above 3 GiB of a large guest above 4 GiB).
 *
 * <pre>{@code
 * new CmosMachineInfo(128L << 20, 0, 1);          // -m 128M
 * new CmosMachineInfo(3L << 30, 2L << 30, 4);     // -m 5G -smp 4
 * }</pre>
 *
 * @param ramBelow4G bytes of RAM below 4 GiB (from address 0)
 * @param ramAbove4G bytes of RAM from 4 GiB up
 * @param cpus       number of CPUs present at boot, 1..256
 */
public record CmosMachineInfo(long ramBelow4G, long ramAbove4G, int cpus) {

    public CmosMachineInfo {
        if (ramBelow4G < 0 || ramBelow4G > (1L << 32)) {
            throw new IllegalArgumentException("RAM below 4 GiB out of range: " + ramBelow4G);
        }
        if (ramAbove4G < 0) {
            throw new IllegalArgumentException("RAM above 4 GiB out of range: " + ramAbove4G);
        }
        if (cpus < 1 || cpus > 256) {
            throw new IllegalArgumentException("CPU count out of range 1..256: " + cpus);
        }
    }
}
