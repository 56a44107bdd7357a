package dev.jkvm.devices;

/**
 * What the CMOS tells firmware about the machine: RAM below and above 4 GiB, and the number of CPUs.
 * {@link CmosRtc} keeps it in the bytes QEMU's PC machine uses ({@link #storeInto}), which SeaBIOS
 * and some test kernels read.
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

    /** Writes QEMU's memory-size and CPU-count bytes into {@code cmos} ({@code pc_cmos_init}). */
    void storeInto(byte[] cmos) {
        int base = (int) Math.min(ramBelow4G / 1024, 640);
        put16(cmos, 0x15, base);
        long ext = ramBelow4G > (1L << 20) ? (ramBelow4G - (1L << 20)) / 1024 : 0;
        put16(cmos, 0x17, (int) Math.min(ext, 0xffff));
        put16(cmos, 0x30, (int) Math.min(ext, 0xffff));
        long above16m = ramBelow4G > (16L << 20) ? (ramBelow4G - (16L << 20)) / 65536 : 0;
        put16(cmos, 0x34, (int) Math.min(above16m, 0xffff));
        long high = Math.min(ramAbove4G / 65536, 0xff_ffff);
        cmos[0x5b] = (byte) high;
        cmos[0x5c] = (byte) (high >>> 8);
        cmos[0x5d] = (byte) (high >>> 16);
        cmos[0x5f] = (byte) (cpus - 1);
    }

    private static void put16(byte[] cmos, int at, int value) {
        cmos[at] = (byte) value;
        cmos[at + 1] = (byte) (value >>> 8);
    }
}
