package dev.jkvm.vmm.acpi;

import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.ByteWriter;
import dev.jkvm.vmm.firmware.PlatformDescription;
import java.util.zip.CRC32;

/**
 * The Firmware ACPI Control Structure (64 bytes, 64-byte aligned, no checksum): the hardware
 * signature a guest compares on resume from hibernation, the waking vectors (zero: jkvm has no
 * firmware resume path; a guest sets them before S3) and the global lock (unused: no firmware
 * shares hardware with the OS).
 */
final class Facs {

    static final int LENGTH = 64;
    static final int ALIGNMENT = 64;
    static final int VERSION = 2;

    private Facs() {
    }

    static byte[] build(PlatformDescription p) {
        ByteWriter w = new ByteWriter();
        w.ascii("FACS", 4);
        w.u32(LENGTH);
        w.u32(hardwareSignature(p));
        w.u32(0); // firmware waking vector
        w.u32(0); // global lock
        w.u32(0); // flags: no S4BIOS, no 64-bit wake
        w.u64(0); // X firmware waking vector
        w.u8(VERSION);
        w.zeros(3);
        w.u32(0); // OSPM flags
        w.zeros(24);
        return w.toByteArray();
    }

    /** Changes when what a hibernated guest relies on changes: the vCPUs and the RAM size. */
    static int hardwareSignature(PlatformDescription p) {
        Topology t = p.topology();
        CRC32 crc = new CRC32();
        long[] facts = {t.cpus(), t.maxCpus(), t.sockets(), t.dies(), t.cores(), t.threads(), p.memory().ramSize()};
        for (long f : facts) {
            for (int i = 0; i < 8; i++) {
                crc.update((int) (f >>> (8 * i)));
            }
        }
        return (int) crc.getValue();
    }
}
