package dev.jkvm.vmm;

import dev.jkvm.vmm.cpu.Topology;
import dev.jkvm.vmm.firmware.FirmwareTables;
import dev.jkvm.vmm.firmware.PlatformDescription;
import dev.jkvm.vmm.firmware.SerialPort;
import dev.jkvm.vmm.memory.E820;
import dev.jkvm.vmm.memory.MemoryMap;
import java.util.ArrayList;
import java.util.List;

/**
 * The firmware tables and the e820 map (with its fw_cfg file) of a PC of one shape: RAM and ROM
 * size, {@code -smp} topology, S3, serial ports, ACPI. Machines of one process with an equal shape
 * share them: describing the platform anew and finding its tables by hashing that record was
 * ~0.08 ms of a tiny machine's creation in Java. All of it is immutable (the tables' bytes are
 * only ever read, fw_cfg copies what it is given). 16 shapes.
 *
 * @param tables the MP and ACPI tables laid out for the shape
 * @param e820 the memory map as the firmware reports it, the tables' range reserved
 * @param e820File {@code etc/e820}, as fw_cfg serves it
 */
record BoardShape(FirmwareTables tables, E820 e820, byte[] e820File) {

    /** What the tables and e820 depend on, compared field by field (no record: see {@link ShapeCache}). */
    private static final class Key {
        private final long ram;
        private final long rom;
        private final int[] topology;
        private final boolean s3;
        private final int serials;
        private final boolean acpi;

        Key(MachineConfig config, MemoryMap map) {
            Topology t = config.topology();
            ram = map.ramSize();
            rom = map.romSize();
            topology = new int[] {t.cpus(), t.maxCpus(), t.sockets(), t.dies(), t.cores(), t.threads()};
            s3 = config.s3();
            serials = config.serials().size();
            acpi = config.acpi();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && ram == k.ram && rom == k.rom && java.util.Arrays.equals(topology, k.topology)
                    && s3 == k.s3 && serials == k.serials && acpi == k.acpi;
        }

        @Override
        public int hashCode() {
            return (int) (ram >>> 20) * 31 + java.util.Arrays.hashCode(topology) * 7 + serials + (s3 ? 2 : 0) + (acpi ? 1 : 0);
        }
    }

    private static final ShapeCache<Key, BoardShape> LAID_OUT = new ShapeCache<>(16);

    /**
     * The shape of the machine {@code config} describes on {@code map}.
     *
     * @throws IllegalArgumentException when its tables do not fit (see {@link FirmwareTables#layOut})
     */
    static BoardShape of(MachineConfig config, MemoryMap map) {
        return LAID_OUT.get(() -> new Key(config, map), () -> build(config, map));
    }

    private static BoardShape build(MachineConfig config, MemoryMap map) {
        List<SerialPort> ports = new ArrayList<>();
        for (int i = 0; i < config.serials().size(); i++) {
            ports.add(SerialPort.com(i));
        }
        PlatformDescription platform = PlatformDescription.pc(config.topology(), map).withS3(config.s3())
                .withSerialPorts(ports);
        FirmwareTables tables = FirmwareTables.layOut(platform, config.acpi(), true);
        E820 e820 = E820.pc(map, tables.reservedBase());
        return new BoardShape(tables, e820, e820.fwCfg());
    }
}
